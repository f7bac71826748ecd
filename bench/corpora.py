"""Labelled corpora for the filter's benches: read, and interleaved in a fixed
order (each source keeping its own order), as a site would receive them."""

import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Windows-1252 punctuation left as C1 controls in some corpora (the API refuses
# control characters, as a reader's browser would never send them).
_C1 = {0x91: "'", 0x92: "'", 0x93: '"', 0x94: '"', 0x96: "-", 0x97: "-"}
_CONTROL = {c: None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]}
_CONTROL |= {c: _C1.get(c) for c in range(0x7F, 0xA0)}


def clean(text: str) -> str:
    return text.translate(_CONTROL)


def read_corpus(path: Path) -> list[dict]:
    """Rows of ``{"n", "author", "body", "spam"}`` from a CSV (``label`` or
    ``CLASS``, ``content`` or ``CONTENT``, optional ``author``) or a TSV
    (``label<TAB>text``) corpus file."""
    rows = []
    if path.suffix == ".tsv":
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            label, text = line.split("\t", 1)
            rows.append(
                {"n": n, "author": "", "body": clean(text), "spam": label == "spam"}
            )
        return rows
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f)):
            label = (row.get("label") or row.get("CLASS") or "").strip().lower()
            rows.append(
                {
                    "n": n,
                    "author": clean(row.get("author") or row.get("AUTHOR") or ""),
                    "body": clean(row.get("content") or row.get("CONTENT") or ""),
                    "spam": label in ("spam", "1"),
                }
            )
    return rows


def default_sources() -> dict[str, list[dict]]:
    """psy.csv and the half of the SMS Spam Collection the starter never saw."""
    psy = read_corpus(ROOT / "tests" / "data" / "youtube_spam" / "psy.csv")
    sms = read_corpus(ROOT / "data" / "spam" / "sms_spam_collection.tsv")
    sms = [row for row in sms if row["n"] % 2 == 1]
    return {"psy.csv": psy, "sms (evaluation half)": sms}


def interleave(sources: dict[str, list[dict]], limit: int, seed=7) -> list[dict]:
    """The sources merged in a fixed pseudo-random order, each keeping its own
    order, cut to *limit* comments."""
    rng = random.Random(seed)
    queues = {name: list(rows) for name, rows in sources.items()}
    merged = []
    while any(queues.values()) and len(merged) < limit:
        names = [n for n, q in queues.items() if q]
        weights = [len(queues[n]) for n in names]
        name = rng.choices(names, weights)[0]
        merged.append(dict(queues[name].pop(0), source=name))
    return merged


def development_sources() -> dict[str, list[dict]]:
    """A mix shaped like a site's stream of comments (video comments, scam
    spam under posts, heated news comments, short messages), from the
    corpora in data/spam whose role is development (its README): psy.csv, the
    first 1,200 ScamSpot Instagram comments, 700 Fox News comments and 700 of
    the SMS evaluation half."""
    data = ROOT / "data" / "spam"
    sources = default_sources()
    return {
        "psy.csv": sources["psy.csv"],
        "scamspot (instagram)": read_corpus(data / "scamspot_instagram.csv")[:1200],
        "fox news (real)": read_corpus(data / "fox_news_comments.csv")[:700],
        "sms (evaluation half)": sources["sms (evaluation half)"][:700],
    }

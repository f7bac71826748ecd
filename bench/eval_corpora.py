"""The labelled corpora bench/filter_eval.py replays: which files, which of
their lines, read into rows of ``{"n", "author", "body", "spam"}`` and merged
into one stream in a fixed order.

A corpus file is CSV with a label column (``label`` or the UCI YouTube files'
``CLASS``: spam/ham, 1/0) and a text column (``content``/``CONTENT``), with an
optional author (``author``/``AUTHOR``); or TSV lines ``label<TAB>text``.
"""

import csv
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The default corpora: (name, file under the checkout, lines, at most). Lines
# "all"; "even" for lines 2, 4, 6… (counted from 1): the half of the SMS
# collection that the starter model never saw (scripts/train_starter_model.py
# learned lines 1, 3, 5…); "first N" / "from N" (rows counted from 1): the
# rows of ScamSpot and Fox News the starter never saw, and those it learned.
# Together a site's stream: video comments, scam spam under posts, heated news
# comments, short messages (about 2,950 comments, a fifth spam).
DEFAULT_CORPORA = [
    ("psy", "tests/data/youtube_spam/psy.csv", "all", None),
    ("scamspot", "data/spam/scamspot_instagram.csv", "first 1200", None),
    ("fox", "data/spam/fox_news_comments.csv", "first 700", None),
    ("sms", "data/spam/sms_spam_collection.tsv", "even", 700),
]
# Besides these, every file that data/spam/README.md's table lists with an
# evaluation role (its "evaluation" column not "—") joins the default: "all …"
# takes every line, "lines 2, 4, 6…" the even ones, "lines 1, 3, 5…" the odd.
README = ROOT / "data" / "spam" / "README.md"

# Kept for independent evaluation (COMMON.md): never part of the default, even
# if a copy lands under data/; --corpus replays one on purpose.
RESERVED = re.compile(
    r"katy|lmfao|eminem|shakira|spam.?experiment|datacamp|davidson|hate|offensive",
    re.IGNORECASE,
)

SPAM_LABELS = {"spam", "1", "true", "yes"}
REAL_LABELS = {"ham", "0", "false", "no", "real", "not spam"}

# Windows-1252 punctuation left as C1 controls in some corpora (the API refuses
# control characters, as a reader's browser would never send them).
_C1 = {0x91: "'", 0x92: "'", 0x93: '"', 0x94: '"', 0x96: "-", 0x97: "-"}
_CONTROL = {c: None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]}
_CONTROL |= {c: _C1.get(c) for c in range(0x7F, 0xA0)}


class CorpusError(ValueError):
    """A corpus file that cannot be read as one (the message says why)."""


def clean(text: str) -> str:
    return text.translate(_CONTROL)


def _label(raw: str, path: Path, line: int) -> bool:
    value = (raw or "").strip().lower()
    if value in SPAM_LABELS:
        return True
    if value in REAL_LABELS:
        return False
    raise CorpusError(f"{path}, line {line}: unknown label {raw!r} (spam or ham)")


def read_corpus(path: Path, lines: str = "all") -> list[dict]:
    """Rows of ``{"n", "author", "body", "spam"}`` from a CSV or TSV file;
    *lines* ``all``, ``even`` or ``odd`` (counted from 1), ``first N`` or
    ``from N`` (the rows after the first N-1).

    Raises:
        CorpusError: the file is missing, or a row has no label or text.
    """
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    rows = []
    if path.suffix.lower() == ".tsv":
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            label, tab, text = line.partition("\t")
            if not tab:
                raise CorpusError(f"{path}, line {n + 1}: no TAB after the label")
            spam = _label(label, path, n + 1)
            rows.append({"n": n, "author": "", "body": clean(text), "spam": spam})
    else:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            fields = {name.lower(): name for name in reader.fieldnames or []}
            if "label" not in fields and "class" not in fields:
                raise CorpusError(f"{path}: no label (or CLASS) column")
            if "content" not in fields:
                raise CorpusError(f"{path}: no content column")
            label = fields.get("label") or fields["class"]
            for n, row in enumerate(reader):
                rows.append(
                    {
                        "n": n,
                        "author": row.get(fields.get("author", ""), "") or "",
                        "body": clean(row[fields["content"]] or ""),
                        "spam": _label(row[label], path, n + 2),
                    }
                )
    if lines == "even":
        rows = [r for r in rows if r["n"] % 2 == 1]
    elif lines == "odd":
        rows = [r for r in rows if r["n"] % 2 == 0]
    elif lines.startswith("first "):
        rows = rows[: int(lines.split()[1])]
    elif lines.startswith("from "):
        rows = rows[int(lines.split()[1]) - 1 :]
    return rows


def _readme_lines(cell: str) -> str | None:
    """The lines an evaluation cell of data/spam/README.md names, or None."""
    cell = cell.strip().lower()
    if not cell or cell in ("—", "-", "none"):
        return None
    if re.match(r"lines? 2\b", cell):
        return "even"
    if re.match(r"lines? 1\b", cell):
        return "odd"
    if cell.startswith("all"):
        return "all"
    return None


def discovered(readme: Path = README) -> list[tuple[str, str, str]]:
    """Files data/spam/README.md gives an evaluation role that the default
    table does not already name, as (name, path, lines, None)."""
    if not readme.is_file():
        return []
    known = {path for _, path, _, _ in DEFAULT_CORPORA}
    found, column = [], None
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2:
            column = None
            continue
        lowered = [c.lower() for c in cells]
        if any(c.startswith("evaluation") for c in lowered):
            column = next(i for i, c in enumerate(lowered) if c.startswith("eval"))
            continue
        if column is None or column >= len(cells) or set(cells[0]) <= set("-: "):
            continue
        name = cells[0].strip("`")
        path = (readme.parent / name).resolve()
        lines = _readme_lines(cells[column])
        if lines is None or RESERVED.search(name) or not path.is_file():
            continue
        relative = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else name
        if relative not in known:
            found.append((path.stem, relative, lines, None))
            known.add(relative)
    return found


def default_sources() -> tuple[dict[str, list[dict]], list[str]]:
    """The default corpora read, and a line describing each."""
    sources, described = {}, []
    for name, path, lines, most in DEFAULT_CORPORA + discovered():
        sources[name] = read_corpus(ROOT / path, lines)[:most]
        cut = f", the first {most}" if most else ""
        described.append(f"{name} = {path} ({lines} lines{cut})")
    return sources, described


def parse_spec(spec: str) -> tuple[str, Path]:
    """``NAME=FILE`` (or just ``FILE``, named by its stem)."""
    name, sep, file = spec.partition("=")
    if not sep:
        return Path(spec).stem, Path(spec)
    return name.strip() or Path(file).stem, Path(file)


def interleave(sources: dict[str, list[dict]], limit: int, seed: int) -> list[dict]:
    """The sources merged in a fixed pseudo-random order (each keeps its own
    order, drawn in proportion to what it has left), cut to *limit*."""
    rng = random.Random(seed)
    queues = {name: list(rows) for name, rows in sources.items()}
    merged = []
    while any(queues.values()) and len(merged) < limit:
        names = [n for n, q in queues.items() if q]
        name = rng.choices(names, [len(queues[n]) for n in names])[0]
        merged.append(dict(queues[name].pop(0), source=name))
    return merged

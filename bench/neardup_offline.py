"""The near-duplicate rules (commentsvc/spam/neardup.py) replayed offline, in
memory: no server, no database. Each corpus is one site; its comments arrive
in file order, and the rules see every earlier comment's signature.

Two replays per corpus:
- "decided": a moderator decides each comment by its label right after it is
  stored, so rule (a) (a near-duplicate of decided spam) can fire; approved
  comments never count;
- "undecided": nobody decides anything and the comments are spread over
  THREADS threads, all within 24 h: the worst case for rule (b) (the same
  message on 3 or more threads).

It prints, per threshold and band layout, the real comments caught (false
positives) and the spam caught, and the cost of a signature. Corpora: the
default corpus of bench/spam_learning.py (tests/data/youtube_spam/psy.csv and
the evaluation half of data/spam/sms_spam_collection.tsv).

    .venv/bin/python bench/neardup_offline.py [--threads 20]
"""

import argparse
import re
import sys
import timeit
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.spam_learning import default_corpus  # noqa: E402
from commentsvc.spam import minhash, neardup  # noqa: E402

THRESHOLDS = (0.4, 0.5, 0.6, 0.7, 0.8)
LAYOUTS = ((16, 4), (32, 2), (8, 8))
_URLS = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def _plain(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


# Normalisations compared; the first is the one commentsvc uses.
VARIANTS = {
    "digits as 0": minhash.normalise,
    "digits kept": _plain,
    "links removed": lambda text: minhash.normalise(_URLS.sub(" ", text)),
}


def bands(sig, count: int, rows: int) -> list[tuple]:
    return [(b, tuple(sig[b * rows : (b + 1) * rows])) for b in range(count)]


def replay(rows, thresholds, layout, decided, threads, variant="digits as 0"):
    """Counts of real and spam comments caught, and by which rule: (a) a
    near-duplicate of decided spam, (b) a campaign on MANY_THREADS threads.
    *thresholds* are (a)'s and (b)'s similarities; as in neardup.check,
    approved comments never count, and an approved one as alike as (b) asks
    stops (b)."""
    spam_t, campaign_t = thresholds
    change = VARIANTS[variant]
    index = defaultdict(list)  # band -> earlier comment numbers
    seen = []  # (signature, label, thread)
    caught = {"ham": 0, "spam": 0, "a": 0, "b": 0, "exact ham": 0, "exact spam": 0}
    same = defaultdict(set)  # body -> threads
    for n, row in enumerate(rows):
        body = row["body"]
        sig = minhash.text_signature(change(body))
        if sig is None:
            continue
        thread = n % threads
        keys = bands(sig, *layout)
        candidates = {m for key in keys for m in index[key]}
        near = [(minhash.similarity(sig, seen[m][0]), m) for m in candidates]
        # label: True spam, False approved, None undecided
        rule = None
        if any(s >= spam_t and seen[m][1] is True for s, m in near):
            rule = "a"
        else:
            alike = [m for s, m in near if s >= campaign_t]
            long = len(body.strip()) >= neardup.MIN_CAMPAIGN_LENGTH
            vouched = any(seen[m][1] is False for m in alike)
            spread = len({seen[m][2] for m in alike} | {thread})
            if long and not vouched and spread >= neardup.MANY_THREADS:
                rule = "b"
        same[body].add(thread)
        if rule:
            caught["spam" if row["spam"] else "ham"] += 1
            caught[rule] += 1
            # What the exact rule (same_body_on_many_threads) catches anyway.
            if rule == "b" and len(same[body]) >= neardup.MANY_THREADS:
                caught["exact " + ("spam" if row["spam"] else "ham")] += 1
        for key in keys:
            index[key].append(len(seen))
        seen.append((sig, row["spam"] if decided else None, thread))
    return caught


def cost(rows) -> float:
    """Microseconds per comment for signature and band keys."""
    bodies = [row["body"] for row in rows[:300]]

    def run():
        for body in bodies:
            sig = minhash.signature(body)
            if sig is not None:
                minhash.band_keys(sig)

    return min(timeit.repeat(run, number=3, repeat=3)) / (3 * len(bodies)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=20)
    args = parser.parse_args()
    corpora = default_corpus()
    for name, rows in corpora.items():
        ham = sum(not r["spam"] for r in rows)
        spam = len(rows) - ham
        short = sum(minhash.signature(r["body"]) is None for r in rows)
        print(f"\n== {name}: {spam} spam, {ham} real, {short} too short to sign")
        print(f"signature + band keys: {cost(rows):.0f} µs per comment")
        for decided in (True, False):
            mode = "decided" if decided else "undecided"
            print(f"-- {mode}: real caught / spam caught")
            for layout in LAYOUTS:
                cells = []
                for threshold in THRESHOLDS:
                    pair = (threshold, threshold)
                    c = replay(rows, pair, layout, decided, args.threads)
                    cells.append(f"J>={threshold}: {c['ham']:>3}/{c['spam']:>4}")
                print(f"  {layout[0]:>2}x{layout[1]}  " + "  ".join(cells))
        chosen = (neardup.SPAM_SIMILARITY, neardup.CAMPAIGN_SIMILARITY)
        layout = (minhash.BANDS, minhash.ROWS)
        print(f"-- chosen: {layout[0]}x{layout[1]}, (a) J>={chosen[0]}, ", end="")
        print(f"(b) J>={chosen[1]}; in brackets: caught by the exact rule too")
        for variant in VARIANTS:
            cells = []
            for decided in (True, False):
                c = replay(rows, chosen, layout, decided, args.threads, variant)
                cells.append(
                    f"{'decided' if decided else 'undecided'}: "
                    f"real {c['ham']} [{c['exact ham']}], "
                    f"spam {c['spam']} [{c['exact spam']}] (a {c['a']}, b {c['b']})"
                )
            print(f"  {variant:<14} " + "; ".join(cells))


if __name__ == "__main__":
    main()

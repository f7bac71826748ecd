"""The learning filter replayed offline: the same code that judges a post and
trains a site's model (commentsvc.learning), with no HTTP, database or worker,
so a change to the method is measured in seconds, not minutes.

A labelled stream is judged comment by comment against the site's current
model blended with the starter; the moderator's decision (the label) joins
the examples; the model is retrained every ``--retrain-every`` decisions (the
worker retrains after each decision on a real site, a few comments behind).
Prints the four figures of issue 26 after the first 500 decisions, per source
and overall, and the first 50 decisions against the starter alone. The
HTTP evaluation (bench/filter_eval.py) is the one that counts; this one is for
choosing between methods.

    .venv/bin/python bench/filter_offline.py [--corpus NAME=FILE ...]
        [--limit 3000] [--retrain-every 25] [--no-confirm-spam] [--json OUT]
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.eval_corpora import (  # noqa: E402
    default_sources,
    interleave,
    parse_spec,
    read_corpus,
)
from commentsvc.learning import blend, features, starter  # noqa: E402
from commentsvc.learning.cutoffs import decide  # noqa: E402
from commentsvc.learning.trainer import floors  # noqa: E402
from commentsvc.learning.training import Example, train  # noqa: E402

DECIDED_AFTER = 500
OUTCOME = {"spam": "spam", "hold": "held", "pass": "pass"}
TARGETS = {
    "spam stored as spam": (">=", 0.85),
    "spam stored or held": (">=", 0.95),
    "real stored as spam": ("<=", 0.005),
    "real held": ("<=", 0.03),
}


class Site:
    """The settings judge() reads, at their defaults."""

    spam_filter_enabled = True
    spam_threshold = None
    spam_hold_threshold = None


def replay(stream, retrain_every=25, confirm_spam=True, seconds=None):
    base = starter.load()
    own = blend.NO_MODEL
    examples, out = [], []
    trained_at = 0
    for n, row in enumerate(stream):
        feats = features.extract(row["author"], row["body"])
        decision = decide(Site, base, own, feats)
        p = decision.probability
        alone = OUTCOME[decide(Site, base, blend.NO_MODEL, feats).outcome]
        outcome = OUTCOME[decision.outcome]
        out.append({**row, "outcome": outcome, "p": p, "alone": alone, "n": n})
        if not (outcome == "spam" and row["spam"] and not confirm_spam):
            examples.append(Example(row["author"], row["body"], row["spam"]))
        kinds = {e.is_spam for e in examples}
        if len(kinds) == 2 and len(examples) - trained_at >= retrain_every:
            started = time.monotonic()
            model, oof = train(examples)
            if seconds is not None:
                seconds.append(time.monotonic() - started)
            found = floors(oof, examples) if oof is not None else (None, None)
            own = blend.SiteModel(len(examples), model, *found)
            trained_at = len(examples)
    return out


def figures(rows) -> dict:
    spam = [r for r in rows if r["spam"]]
    real = [r for r in rows if not r["spam"]]

    def share(part, whole):
        return len(part) / len(whole) if whole else math.nan

    return {
        "spam": len(spam),
        "real": len(real),
        "spam stored as spam": share([r for r in spam if r["outcome"] == "spam"], spam),
        "spam stored or held": share([r for r in spam if r["outcome"] != "pass"], spam),
        "real stored as spam": share([r for r in real if r["outcome"] == "spam"], real),
        "real held": share([r for r in real if r["outcome"] == "held"], real),
    }


def line(name, f) -> str:
    cells = [f"{f[k] * 100:6.1f} %" for k in TARGETS]
    return f"{name:32} {f['spam']:5} {f['real']:5} " + " ".join(cells)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", default=[], metavar="NAME=FILE")
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--retrain-every", type=int, default=25)
    parser.add_argument("--no-confirm-spam", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.corpus:
        sources = {}
        for item in args.corpus:
            name, path = parse_spec(item)
            sources[name] = read_corpus(path)
    else:
        sources, _ = default_sources()
    stream = interleave(sources, args.limit, args.seed)
    seconds = []
    started = time.monotonic()
    rows = replay(stream, args.retrain_every, not args.no_confirm_spam, seconds)
    took = time.monotonic() - started
    later = rows[DECIDED_AFTER:]
    print(
        f"{len(rows)} comments, retrain every {args.retrain_every}, "
        f"{'confirming' if not args.no_confirm_spam else 'not confirming'} spam; "
        f"{took:.0f} s ({sum(seconds):.0f} s training)"
    )
    head = " ".join(f"{k[:8]:>8}" for k in TARGETS)
    print(f"{'after 500 decisions':32} {'spam':>5} {'real':>5} {head}")
    result = {"overall": figures(later), "sources": {}}
    for name in sources:
        f = figures([r for r in later if r["source"] == name])
        result["sources"][name] = f
        print(line(name, f))
    print(line("overall", result["overall"]))
    verdicts = []
    for key, (op, target) in TARGETS.items():
        value = result["overall"][key]
        ok = value >= target if op == ">=" else value <= target
        mark = "PASS" if ok else "FAIL"
        verdicts.append(f"{key} {value * 100:.1f} % {op} {target * 100:g} %: {mark}")
    print("\n".join(verdicts))
    first = rows[:50]
    held = sum(1 for r in first if not r["spam"] and r["outcome"] != "pass")
    alone = sum(1 for r in first if not r["spam"] and r["alone"] != "pass")
    print(f"first 50: real held or spam {held}, the starter alone {alone}")
    result["first50"] = {"real_flagged": held, "starter_alone": alone}
    curve = []
    for start in range(0, len(rows), 250):
        f = figures(rows[start : start + 250])
        curve.append(f)
        print(line(f"{start + 1}-{start + 250}", f))
    result["curve"] = curve
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

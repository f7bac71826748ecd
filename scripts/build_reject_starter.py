"""Build the starter of the reject model shipped in commentsvc/rejections/
from the lexicons and lists in data/rejections (each source and licence in
data/rejections/README.md).

    .venv/bin/python scripts/build_reject_starter.py

Each term becomes a weight on its word column (one word) or word-pair column
(two words) of the spam filter's hashed features; longer phrases are left out.
Two numbers are fitted, the weight of a "sure" term (a "mild" one weighs
MILD_SHARE of it) and the intercept, by a logistic regression on our
hand-written seed corpus (data/rejections/seed.tsv); the intercept is then
moved from the seed's share of rejects to PRIOR, the share of comments a news
site rejects for their words. Writes starter-model.npy (numbers only) and
starter-model.json, and prints the checks of docs/spam.md.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from commentsvc.learning import features  # noqa: E402
from commentsvc.rejections import starter  # noqa: E402

DATA = ROOT / "data" / "rejections"
# The share of comments a site rejects for what they say, before it has told
# us: a few percent on moderated news sites (docs/spam.md).
PRIOR = 0.1
# A "mild" term weighs this share of a "sure" one (fixed, not fitted: the seed
# corpus is too small to tell the two apart reliably).
MILD_SHARE = 0.6
# Regularisation of the two-number fit: weak (two numbers, 80 examples).
C = 10_000.0
CHECKS = {
    "You are all idiots, shut this paper down.": "high",
    "Our town tried this too; it worked for two winters.": "low",
    "I think the council is wrong about this, and the numbers show it.": "low",
    "Scunthorpe": "low",
    "class": "low",
    "assess": "low",
    "The class will assess the Scunthorpe cocktail analysis.": "low",
}


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def terms() -> tuple[dict[str, str], dict]:
    """Every term and its tier ("sure" or "mild"), and counts per source."""
    civil = {line.strip().lower() for line in _lines(DATA / "civil_uses.txt")}
    found: dict[str, str] = {}
    counts = {}
    cuss = [line.split("\t") for line in _lines(DATA / "cuss.tsv")]
    sure = [term for term, rating in cuss if rating == "2"]
    ldnoobw = _lines(DATA / "ldnoobw-en.txt")
    for name, source in (("cuss (rating 2)", sure), ("LDNOOBW en", ldnoobw)):
        kept = [t.strip().lower() for t in source if t.strip().lower() not in civil]
        counts[name] = {"listed": len(source), "kept": len(kept)}
        for term in kept:
            found[term] = "sure"
    ours = [line.split("\t") for line in _lines(DATA / "insults.tsv")]
    for term, tier in ours:
        found[term.strip().lower()] = tier.strip()  # our tier wins
    counts["insults.tsv (ours)"] = {"listed": len(ours), "kept": len(ours)}
    return found, counts


def features_of(found: dict[str, str]) -> dict[str, str]:
    """Each term as the word feature it is read from (one word, or a word
    pair as "a b"); longer phrases are left out."""
    out: dict[str, str] = {}
    for term, tier in found.items():
        words = features._WORD.findall(term)
        if len(words) in (1, 2):
            feature = " ".join(words)
            if out.get(feature) != "sure":
                out[feature] = tier
    return out


def tier_sums(text: str, terms: dict[str, str]) -> tuple[float, float]:
    row = features.extract("", text)
    sums = {"sure": 0.0, "mild": 0.0}
    for feature in set(row.words):
        tier = terms.get(feature)
        if tier:
            at = int(np.searchsorted(row.indices, features._hash_word(feature)))
            sums[tier] += float(row.values[at])
    return sums["sure"], sums["mild"]


def figures(scores: np.ndarray, y: np.ndarray) -> dict:
    """Rejects caught and approved comments marked at a few thresholds."""
    return {
        str(p): {
            "rejects_caught": round(float((scores[y == 1] >= p).mean()), 3),
            "approved_marked": round(float((scores[y == 0] >= p).mean()), 3),
        }
        for p in (0.5, 0.7, 0.9)
    }


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    found, counts = terms()
    used = features_of(found)
    seed = [line.split("\t", 1) for line in _lines(DATA / "seed.tsv")]
    x = np.array([tier_sums(text, used) for _, text in seed]) @ [[1.0], [MILD_SHARE]]
    y = np.array([label == "reject" for label, _ in seed], dtype=np.int8)
    fit = LogisticRegression(C=C, max_iter=1000).fit(x, y)
    w_sure = float(max(fit.coef_[0, 0], 0.0))
    w_mild = MILD_SHARE * w_sure
    seed_odds = y.mean() / (1 - y.mean())
    intercept = float(fit.intercept_[0]) + math.log(PRIOR / (1 - PRIOR) / seed_odds)
    model = starter.LexiconModel(
        intercept, {f: w_sure if t == "sure" else w_mild for f, t in used.items()}
    )
    scores = {
        text: round(model.probability(features.extract("", text)), 3) for text in CHECKS
    }
    seed_scores = np.array(
        [model.probability(features.extract("", text)) for _, text in seed]
    )
    at = figures(seed_scores, y)
    # The held-out check: our own sentences, never used to fit.
    check = [line.split("\t", 1) for line in _lines(DATA / "check.tsv")]
    check_y = np.array([label == "reject" for label, _ in check], dtype=np.int8)
    check_scores = np.array(
        [model.probability(features.extract("Reader", text)) for _, text in check]
    )
    meta = {
        "sources": counts,
        "terms_used": len(used),
        "weights": {"sure": round(w_sure, 3), "mild": round(w_mild, 3)},
        "intercept": round(intercept, 3),
        "prior": PRIOR,
        "seed": {"approve": int((y == 0).sum()), "reject": int(y.sum()), "at": at},
        "held_out_check": {
            "approve": int((check_y == 0).sum()),
            "reject": int(check_y.sum()),
            "at": figures(check_scores, check_y),
        },
        "checks": scores,
    }
    print(json.dumps(meta, indent=2))
    meta["terms"] = dict(sorted(used.items()))
    starter.write((intercept, w_sure, w_mild), meta)
    for text, want in CHECKS.items():
        p = scores[text]
        if (want == "high" and p < 0.8) or (want == "low" and p >= 0.2):
            raise SystemExit(f"check failed: {text!r} scores {p}")


if __name__ == "__main__":
    main()

"""The starter shipped with the package: what a new site's reject model knows
before its moderators have approved or rejected anything.

Built by ``scripts/build_reject_starter.py`` from public lexicons and our own
hand-written lists (each source and licence in data/rejections/README.md): a
weight for each listed word or word pair, read from the comment's own word
features (never from hashed columns alone: in 2^20 columns, a listed word's
column is shared by the character n-grams of ordinary text now and then, and
"Scunthorpe", "class" or "assess" must not count as the words inside them).
Its three numbers (intercept, weight of a "sure" and of a "mild" term) are in
``starter-model.npy`` (``numpy.save``, no pickle), its terms and what it was
built from in ``starter-model.json``.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from flask import current_app

from ..learning.features import Features, _hash_word
from ..learning.model import BrokenModel

HERE = Path(__file__).parent
STATE = HERE / "starter-model.npy"
META = HERE / "starter-model.json"
TIERS = ("sure", "mild")


@dataclass(frozen=True)
class LexiconModel:
    """A linear model whose weights sit on listed word features: the same
    ``intercept`` and ``contributions`` as commentsvc.learning's LinearModel,
    so the two blend alike."""

    intercept: float
    weights: dict  # word feature ("idiots", "shut up") -> weight

    def hits(self, row: Features) -> list[tuple[str, int, float]]:
        """The listed features of the row: (feature, its place in the row's
        columns, its push towards "rejected")."""
        found = []
        for feature in set(row.words):
            weight = self.weights.get(feature)
            if weight is None:
                continue
            at = int(np.searchsorted(row.indices, _hash_word(feature)))
            if at < len(row.indices):
                found.append((feature, at, weight * float(row.values[at])))
        return found

    def contributions(self, row: Features) -> np.ndarray:
        """Each of the row's columns' push towards "rejected"."""
        out = np.zeros(len(row.indices))
        for _, at, push in self.hits(row):
            out[at] += push
        return out

    def probability(self, row: Features) -> float:
        logit = self.intercept + float(self.contributions(row).sum())
        return float(1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0))))


@dataclass(frozen=True)
class Starter:
    model: LexiconModel
    meta: dict


def write(numbers: tuple[float, float, float], meta: dict, state=STATE, path=META):
    """Store the starter: (intercept, sure weight, mild weight) and *meta*
    (with ``terms``: feature -> tier)."""
    with open(state, "wb") as out:
        np.save(out, np.array(numbers, dtype=np.float64), allow_pickle=False)
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")


def load(state: Path = STATE, meta: Path = META) -> Starter:
    """Read the starter from its files.

    Raises:
        BrokenModel: the numbers or the terms are not a starter's.
        OSError: a file is missing.
    """
    try:
        numbers = np.load(state, allow_pickle=False)
        info = json.loads(meta.read_text(encoding="utf-8"))
        terms = info["terms"]
    except (ValueError, KeyError, TypeError, EOFError) as error:
        raise BrokenModel(f"unreadable reject starter: {error}") from None
    if (
        numbers.dtype != np.float64
        or numbers.shape != (3,)
        or not np.all(np.isfinite(numbers))
        or not isinstance(terms, dict)
        or not set(terms.values()) <= set(TIERS)
    ):
        raise BrokenModel("the reject starter has the wrong shape or values")
    by_tier = dict(zip(TIERS, numbers[1:].tolist(), strict=True))
    weights = {str(term): by_tier[tier] for term, tier in terms.items()}
    return Starter(LexiconModel(float(numbers[0]), weights), info)


def model() -> Starter:
    """The starter, read once per process (REJECT_STARTER_MODEL can point at
    another, for tests).

    Raises:
        BrokenModel, OSError: see :func:`load`.
    """
    found = current_app.extensions.get("commentsvc.reject_starter")
    if found is None:
        path = current_app.config.get("REJECT_STARTER_MODEL")
        if path:
            path = Path(path)
            found = load(path, path.with_suffix(".json"))
        else:
            found = load()
        current_app.extensions["commentsvc.reject_starter"] = found
    return found

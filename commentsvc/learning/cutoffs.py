"""From a probability to a verdict: the probabilities at which a site's
comments are stored as spam and held, and the protection of a new site.

Shared by the post path (commentsvc.learning.judge) and the offline bench
(bench/filter_offline.py), so both measure the same rule.
"""

from dataclasses import dataclass

import numpy as np

from ..models import SPAM_HOLD_THRESHOLD, SPAM_THRESHOLD
from . import blend

# Below this many decisions a site's model may make a verdict milder than the
# starter's alone, never harsher: a model taught by a handful of decisions
# knows more about what the site's moderators passed than about spam
# (docs/spam.md, "a new site": 11 decisions once held a plain sentence at 37 %).
YOUNG = 50
# The learned hold threshold is never under this.
HOLD_MIN = 0.2
_RANK = {"pass": 0, "hold": 1, "spam": 2}


@dataclass(frozen=True)
class Decision:
    outcome: str  # "spam", "hold" or "pass"
    probability: float
    contributions: np.ndarray
    model: str
    store_at: float


def pick(site, base, own) -> tuple[float, float]:
    """The store and hold probabilities of *site* (its settings, or automatic)
    given the starter *base* and the site's own model *own*.

    Automatic: while only the starter judges, or the site's model has no
    out-of-fold scores yet, the starter's own (higher) thresholds; then the
    floors the model's out-of-fold scores allow (at most 0.5 % of the site's
    real comments at or above the store threshold, 2 % at or above the hold
    threshold), the store threshold never under 0.6."""
    if own.model is None or own.spam_floor is None:
        store_at = max(SPAM_THRESHOLD, base.spam_floor)
        hold_at = max(SPAM_HOLD_THRESHOLD, base.hold_floor)
    else:
        store_at = max(SPAM_THRESHOLD, own.spam_floor)
        hold_at = SPAM_HOLD_THRESHOLD
        if own.hold_floor is not None:
            hold_at = min(max(HOLD_MIN, own.hold_floor), store_at)
    if site.spam_threshold is not None:
        store_at = site.spam_threshold
    if site.spam_hold_threshold is not None:
        hold_at = site.spam_hold_threshold
    return store_at, hold_at


def _outcome(probability: float, store_at: float, hold_at: float) -> str:
    if probability >= store_at:
        return "spam"
    return "hold" if probability >= hold_at else "pass"


def decide(site, base, own, row) -> Decision:
    """The verdict on the features *row* of a comment of *site*.

    Raises:
        ValueError: a model's arrays do not fit the row (a broken model).
    """
    logit, contributions, name = blend.combine(base.model, own, row)
    probability = blend.sigmoid(logit)
    store_at, hold_at = pick(site, base, own)
    outcome = _outcome(probability, store_at, hold_at)
    if own.model is not None and own.model.examples < YOUNG and outcome != "pass":
        alone = blend.NO_MODEL
        p_alone = blend.sigmoid(blend.combine(base.model, alone, row)[0])
        milder = _outcome(p_alone, *pick(site, base, alone))
        if _RANK[milder] < _RANK[outcome]:
            outcome = milder
            name += f" (young: no harsher than the starter's {milder})"
    return Decision(outcome, probability, contributions, name, store_at)

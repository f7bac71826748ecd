"""The probabilities at which a site's comments are stored as spam and held."""

from ..models import SPAM_HOLD_THRESHOLD, SPAM_THRESHOLD

HOLD_FROM_OOF = True
HOLD_MIN = 0.2


def pick(site, base, own) -> tuple[float, float]:
    """The store and hold probabilities of *site* (its settings, or automatic)
    given the starter *base* and the site's own model *own*.

    Automatic storing never goes under the floor the model's own out-of-fold
    scores allow; while only the starter judges (it learned from other kinds of
    text), its own, higher thresholds apply."""
    if own.model is None:
        store_at = max(SPAM_THRESHOLD, base.spam_floor)
        hold_at = max(SPAM_HOLD_THRESHOLD, base.hold_floor)
    else:
        floor = own.spam_floor if own.spam_floor is not None else base.spam_floor
        store_at = max(SPAM_THRESHOLD, floor)
        hold_at = SPAM_HOLD_THRESHOLD
        if own.hold_floor is not None and HOLD_FROM_OOF:
            hold_at = min(max(HOLD_MIN, own.hold_floor), store_at)
    if site.spam_threshold is not None:
        store_at = site.spam_threshold
    if site.spam_hold_threshold is not None:
        hold_at = site.spam_hold_threshold
    return store_at, hold_at

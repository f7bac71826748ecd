"""The starter model and a site's own model, blended into one probability.

Shared by the post path (commentsvc.learning.judge) and the offline bench, so
both measure the same thing.
"""

import math

from . import features
from .model import LinearModel
from .store import NO_MODEL, SiteModel

__all__ = ["NO_MODEL", "SiteModel", "STARTER_WEIGHT", "probability", "combine"]

# How many of its own decisions a site needs before they weigh as much as the
# starter model: the blend is (1 - a) * starter + a * site in log-odds, with
# a = n / (n + STARTER_WEIGHT). docs/spam.md shows the curve behind it.
STARTER_WEIGHT = 100


def combine(base: LinearModel, own, row: features.Features, weight=STARTER_WEIGHT):
    """The blended log-odds, each column's push, and the model's name: the
    starter *base* and the site's own model *own* (anything with ``version``
    and ``model``), the site's share ``a = n / (n + weight)`` for its ``n``
    decisions."""
    contributions = base.contributions(row)
    logit = base.intercept
    if own.model is None:
        return logit + contributions.sum(), contributions, "starter"
    n = own.model.examples
    a = n / (n + weight)
    contributions = (1 - a) * contributions + a * own.model.contributions(row)
    logit = (1 - a) * base.intercept + a * own.model.intercept
    name = f"site v{own.version} ({n} decisions, weight {a:.2f}) + starter"
    return logit + contributions.sum(), contributions, name


def probability(base: LinearModel, own: SiteModel, row: features.Features):
    """The blended spam probability of *row*, and each column's push."""
    logit, contributions, _ = combine(base, own, row)
    return sigmoid(logit), contributions


def sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))

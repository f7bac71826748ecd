"""The learning spam filter: a per-site text classifier taught by moderators.

When each phase runs, and why there:
- **Posting** (:func:`judge`, called by commentsvc.spam after the cheap rules):
  the comment's hashed features against the site's model blended with the
  starter model; about 0.35 ms, no training, never an exception that loses a
  comment (trouble is the outcome ``unavailable``, which holds it).
- **Deciding** (:func:`decisions_made`, called by comments.moderation after
  the commit): one Redis PUBLISH that wakes the trainers; nothing else.
- **Training** (commentsvc.learning.trainer, in ``flask spam worker`` or
  ``flask spam retrain``): the site's decisions from SQL, a logistic
  regression, thresholds from its out-of-fold scores, the model stored as
  numbers and dropped from every process's cache through Redis.
"""

import contextlib
import logging
from dataclasses import dataclass, field

from flask import current_app
from redis.exceptions import RedisError

from ..extensions import db, get_redis
from . import features, starter, store
from .cutoffs import decide, pick

log = logging.getLogger(__name__)

# Features shown to moderators: the strongest pushes towards spam.
PUSHED = 6


@dataclass(frozen=True)
class Judgement:
    """What the filter made of a comment.

    ``outcome``: ``spam`` (at or above the store threshold), ``hold`` (at or
    above the hold threshold), ``pass``, ``unavailable`` (the filter failed:
    the caller holds the comment) or ``off`` (the site turned it off).
    """

    outcome: str
    probability: float | None = None
    model: str | None = None
    threshold: float | None = None
    pushed: tuple = field(default_factory=tuple)
    detail: str | None = None

    def as_signal(self) -> dict:
        signal = {
            "verdict": self.outcome,
            "probability": round(self.probability, 3),
            "model": self.model,
            "spam_at": round(self.threshold, 3),
        }
        signal["pushed"] = [[name, round(weight, 3)] for name, weight in self.pushed]
        return signal


def _pushed(row: features.Features, contributions) -> tuple:
    """The words that pushed hardest towards spam, strongest first."""
    totals = features.by_word(row, contributions)
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return tuple((word, weight) for word, weight in ranked[:PUSHED] if weight > 0)


def thresholds(site) -> tuple[float, float]:
    """The probabilities at which *site*'s comments are now stored as spam and
    held (the starter's and the site's model's, as :func:`judge` uses them).

    Raises:
        BrokenModel, OSError: a model cannot be read.
    """
    return pick(site, starter.model(), store.site_model(site.id, site.slug))


def judge(site, author: str, body: str, row=None) -> Judgement:
    """The filter's verdict on a new comment of *site* (a Site or its
    settings snapshot); *row*: its features, if the caller has them. Never
    raises: a broken model, an unreadable starter or a failed read is the
    outcome ``unavailable``, with the reason."""
    if not site.spam_filter_enabled:
        return Judgement("off")
    try:
        row = row if row is not None else features.extract(author, body)
        base = starter.model()
        own = store.site_model(site.id, site.slug)
        decision = decide(site, base, own, row)
    except Exception as error:  # noqa: BLE001 - any failure holds, never loses
        with contextlib.suppress(Exception):
            db.session.rollback()
        log.exception("spam filter unavailable for site %s", site.slug)
        return Judgement("unavailable", detail=type(error).__name__)
    pushed = ()
    if decision.outcome != "pass":
        pushed = _pushed(row, decision.contributions)
    return Judgement(
        decision.outcome,
        decision.probability,
        decision.model,
        decision.store_at,
        pushed,
    )


def channel() -> str:
    return f"{current_app.config['REDIS_KEY_PREFIX']}spam:decided"


def decisions_made(site_ids) -> None:
    """Moderators decided comments of *site_ids*: wake the trainers. Call after
    the commit. Never raises: the trainers also poll the database."""
    with contextlib.suppress(RedisError, OSError):
        get_redis().publish(channel(), ",".join(str(i) for i in sorted(site_ids)))

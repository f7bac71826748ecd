"""What a site rejects: beside spam, a per-site model of the comments its
moderators reject (insults, harassment, off-topic) against those they approve.

When each phase runs, like the spam filter's (commentsvc.learning):
- **Posting** (:func:`judge`, called by commentsvc.spam after the spam
  filter, on the same features row): the site's model blended with the
  starter in log-odds, weighted by the site's decisions; a few hundredths of a
  millisecond. Never raises: a failure is logged and scores nothing (the score
  advises, it never decides alone).
- **Training** (commentsvc.rejections.trainer, in the spam filter's worker):
  the site's approve and reject decisions, a logistic regression over the same
  hashed features, its intercept moved back to the site's share of rejects.

What a site does with the score is its settings: ``reject_threshold``,
``reject_hold_trusted`` and ``reject_nudge`` (see commentsvc.spam and
docs/spam.md, "What a site rejects").
"""

import contextlib
import logging
from dataclasses import dataclass, field

from ..extensions import db
from ..learning import blend, features
from . import starter, store

log = logging.getLogger(__name__)

# How many of its own decisions a site needs before they weigh as much as the
# starter: as the spam filter's blend, a = n / (n + STARTER_WEIGHT).
STARTER_WEIGHT = 100
# Words shown to moderators (and to the reader asked to reconsider).
PUSHED = 6
# Below this probability the words are not worked out (they cost more than the
# score itself, and nobody reads them on a clean comment).
EXPLAIN_FROM = 0.2
# The message of the nudge, as docs/api.md gives it.
NUDGE_MESSAGE = (
    "Your comment may break this site's rules. Edit it, or post it anyway "
    "for a moderator to decide."
)


@dataclass(frozen=True)
class Likelihood:
    """How likely the site's moderators are to reject a comment, the model
    that said so, and the words that pushed it (strongest first)."""

    probability: float
    model: str
    threshold: float
    pushed: tuple = field(default_factory=tuple)

    @property
    def likely(self) -> bool:
        """At or above the site's threshold."""
        return self.probability >= self.threshold

    def as_signal(self) -> dict:
        return {
            "probability": round(self.probability, 3),
            "model": self.model,
            "pushed": [[word, round(weight, 3)] for word, weight in self.pushed],
        }


def _pushed(row: features.Features, contributions) -> tuple:
    totals = features.by_word(row, contributions)
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return tuple((word, weight) for word, weight in ranked[:PUSHED] if weight > 0)


def _listed(base, row: features.Features) -> tuple:
    ranked = sorted(((f, push) for f, _, push in base.hits(row)), key=lambda x: -x[1])
    return tuple(ranked[:PUSHED])


def judge(site, author: str, body: str, row=None) -> Likelihood | None:
    """The likelihood that *site*'s moderators reject this comment; *row* is
    its features if the caller has them (the spam filter's). Never raises:
    None when a model cannot be read (logged)."""
    try:
        row = row if row is not None else features.extract(author, body)
        base = starter.model().model
        own = store.site_model(site.id, site.slug)
        logit, contributions, name = blend.combine(base, own, row, STARTER_WEIGHT)
        probability = blend.sigmoid(logit)
        pushed = ()
        if probability >= EXPLAIN_FROM:
            # The starter's words are its listed terms; a blend's are worked
            # out from its columns (about 1 ms: only for such comments).
            pushed = _pushed(row, contributions) if own.model else _listed(base, row)
    except Exception:  # noqa: BLE001 - advice only: a failure scores nothing
        with contextlib.suppress(Exception):
            db.session.rollback()
        log.exception("reject model unavailable for site %s", site.slug)
        return None
    return Likelihood(probability, name, site.reject_threshold, pushed)

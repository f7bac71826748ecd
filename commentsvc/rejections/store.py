"""Where reject models live: a site's approve/reject decisions read as
training examples, models written to and read from ``reject_models``, and the
in-process cache of them (the same read cache and invalidation as the spam
filter's models: see commentsvc.learning.store).
"""

from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..learning.model import LinearModel
from ..learning.store import cached_model, save_over_older
from ..learning.training import Example
from ..models import Comment, CommentStatus, RejectModel, utcnow

# Decisions learned from: a rejected comment is "what this site rejects", an
# approved one is not. Spam is another question (the spam filter's).
LABELS = {CommentStatus.REJECTED: True, CommentStatus.APPROVED: False}
MAX_EXAMPLES = 20_000

_models = RejectModel.__table__
_comments = Comment.__table__


@dataclass(frozen=True)
class SiteModel:
    version: int
    model: LinearModel | None


NO_MODEL = SiteModel(0, None)

_READ = sa.select(_models.c.version, _models.c.state).where(
    _models.c.site_id == sa.bindparam("site_id")
)


def model_key(slug: str) -> tuple:
    """The read cache's key of a site's reject model (dropped with the site's
    other entries, and by the trainer)."""
    return ("reject_model", slug)


def site_model(site_id: int, slug: str) -> SiteModel:
    """The site's current reject model (NO_MODEL if none), cached in-process.

    Raises:
        BrokenModel: the stored state is not a model.
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """
    return cached_model(
        model_key(slug),
        _READ,
        site_id,
        lambda row: SiteModel(row.version, LinearModel.from_bytes(row.state)),
        NO_MODEL,
    )


def examples(site_id: int, limit: int = MAX_EXAMPLES) -> list[Example]:
    """The site's approve and reject decisions, newest first, on the words the
    moderator saw (``decided_body``), as examples (``is_spam`` means rejected)."""
    rows = db.session.execute(
        sa.select(
            _comments.c.decided_status, _comments.c.author, _comments.c.decided_body
        )
        .where(
            _comments.c.site_id == site_id,
            _comments.c.moderated_at.is_not(None),
            _comments.c.decided_status.in_(list(LABELS)),
            _comments.c.decided_body.is_not(None),
            _comments.c.body != "[deleted]",
        )
        .order_by(_comments.c.moderated_at.desc(), _comments.c.id.desc())
        .limit(limit)
    )
    return [Example(r.author, r.decided_body, LABELS[r.decided_status]) for r in rows]


def save(site_id: int, model: LinearModel, through: int) -> int | None:
    """Store *model* as the site's, unless one trained on newer decisions is
    there already; commits. Returns the new version, or None if not stored."""
    values = {
        "state": model.to_bytes(),
        "trained_through": through,
        "examples": model.examples,
        "rejected_examples": model.spam_examples,
        "trained_at": utcnow(),
    }
    return save_over_older(_models, site_id, through, values)

"""Where models live: the site's decisions read as training examples, models
written to and read from ``spam_models``, and the in-process cache of them.

The database is the source of truth. A process caches a site's model in the
read cache (commentsvc.comments.cache) under its own key; the trainer drops
that key everywhere through Redis after it stores a new model, and the cache's
TTL bounds a lost message.
"""

import contextlib
from dataclasses import dataclass

import sqlalchemy as sa

from ..comments.cache import read_cache, spam_model_key
from ..extensions import db
from ..models import Comment, CommentStatus, ModerationEvent, Site, SpamModel, utcnow
from .model import LinearModel, OutdatedModel
from .training import Example

# Decisions learned from: spam is spam; approved and rejected are real
# comments ("real but not publishable" is still not spam).
LABELS = {
    CommentStatus.SPAM: True,
    CommentStatus.APPROVED: False,
    CommentStatus.REJECTED: False,
}
# The newest decisions a model learns from (older taste fades out).
MAX_EXAMPLES = 20_000

_models = SpamModel.__table__
_comments = Comment.__table__
_events = ModerationEvent.__table__


@dataclass(frozen=True)
class SiteModel:
    """A site's trained model as a post reads it."""

    version: int
    model: LinearModel | None
    spam_floor: float | None
    # The hold threshold the model's out-of-fold scores allow (None: default).
    hold_floor: float | None = None


NO_MODEL = SiteModel(0, None, None)  # cached too: most posts of a new site


_READ = sa.select(
    _models.c.version, _models.c.state, _models.c.spam_floor, _models.c.figures
).where(_models.c.site_id == sa.bindparam("site_id"))


def site_model(site_id: int, slug: str) -> SiteModel:
    """The site's current model (NO_MODEL if it has none), cached in-process.

    Raises:
        BrokenModel: the stored state is not a model.
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """

    def build(row):
        hold_floor = (row.figures or {}).get("hold_floor")
        model = LinearModel.from_bytes(row.state)
        return SiteModel(row.version, model, row.spam_floor, hold_floor)

    return cached_model(spam_model_key(slug), _READ, site_id, build, NO_MODEL)


def cached_model(key: tuple, query, site_id: int, build, missing):
    """A site's model (spam or reject) from the process's read cache, or read
    with *query* and made by *build* from its row; *missing* when the site has
    none, or only a model of an older version (the starter judges alone until
    the worker retrains it).

    Raises:
        BrokenModel: the stored state is not a model.
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """
    cache = read_cache()
    found = cache.get(key)
    if found is not None:
        return found
    generation = cache.generation
    row = db.session.connection().execute(query, {"site_id": site_id}).first()
    found = missing
    if row is not None:
        with contextlib.suppress(OutdatedModel):
            found = build(row)
    cache.put(key, found, generation)
    return found


def _decided(site_id: int, limit: int, *columns):
    """*columns* of the site's decided comments, newest decisions first, with
    ``status``: what a moderator decided (spam, approve or reject) on the words
    they saw. Comments nobody has looked at are not labels; neither is a status
    the system gave later (an edit the rules called spam), nor an edit's text
    (the decided words are kept in ``decided_body``)."""
    return db.session.execute(
        sa.select(_comments.c.decided_status.label("status"), *columns)
        .where(
            _comments.c.site_id == site_id,
            _comments.c.moderated_at.is_not(None),
            _comments.c.decided_status.in_(list(LABELS)),
            _comments.c.decided_body.is_not(None),
            # Erased at the author's request (portability.erasure): no text left.
            _comments.c.body != "[deleted]",
        )
        .order_by(_comments.c.moderated_at.desc(), _comments.c.id.desc())
        .limit(limit)
    )


def examples(site_id: int, limit: int = MAX_EXAMPLES) -> list[Example]:
    """The site's decisions as training examples."""
    rows = _decided(site_id, limit, _comments.c.author, _comments.c.decided_body)
    return [Example(r.author, r.decided_body, LABELS[r.status]) for r in rows]


def latest_decision(site_id: int | None = None) -> dict[int, int]:
    """The newest moderation event id of each site (or of one)."""
    query = sa.select(_events.c.site_id, sa.func.max(_events.c.id)).group_by(
        _events.c.site_id
    )
    if site_id is not None:
        query = query.where(_events.c.site_id == site_id)
    return dict(db.session.execute(query).all())


def decisions_since(after_event_id: int) -> dict[int, int]:
    """Sites with moderation events after *after_event_id*, and their newest."""
    return dict(
        db.session.execute(
            sa.select(_events.c.site_id, sa.func.max(_events.c.id))
            .where(_events.c.id > after_event_id)
            .group_by(_events.c.site_id)
        ).all()
    )


def trained_through() -> dict[int, int]:
    """The newest decision each site's model covers; 0 for a model of an
    older version (so that the worker retrains it)."""
    done = {}
    for site_id, through, state in db.session.execute(
        sa.select(_models.c.site_id, _models.c.trained_through, _models.c.state)
    ):
        try:
            LinearModel.from_bytes(state)
        except OutdatedModel:
            through = 0
        done[site_id] = through
    return done


def save(
    site_id: int,
    model: LinearModel,
    through: int,
    spam_floor: float | None,
    figures: dict,
) -> int | None:
    """Store *model* as the site's, unless a model trained on newer decisions
    is already there (two trainers at once); commits. Returns the new version,
    or None if it was not stored."""
    values = {
        "state": model.to_bytes(),
        "trained_through": through,
        "examples": model.examples,
        "spam_examples": model.spam_examples,
        "spam_floor": spam_floor,
        "figures": figures,
        "trained_at": utcnow(),
    }
    return save_over_older(_models, site_id, through, values)


def save_over_older(table: sa.Table, site_id: int, through: int, values: dict):
    """Write a site's model *values* into *table* (spam or reject models)
    with a new version, unless the row there covers newer decisions (two
    trainers at once); commits. Returns the new version, or None if the model
    was not stored.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed (rolled back).
    """
    try:
        updated = db.session.execute(
            sa.update(table)
            .where(table.c.site_id == site_id, table.c.trained_through <= through)
            .values(version=table.c.version + 1, **values)
            .returning(table.c.version)
        ).scalar()
        if updated is None:
            exists = db.session.scalar(
                sa.select(table.c.site_id).where(table.c.site_id == site_id)
            )
            if exists is not None:
                db.session.rollback()
                return None
            db.session.execute(
                sa.insert(table).values(site_id=site_id, version=1, **values)
            )
            updated = 1
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()  # another trainer inserted first: its model stands
        return None
    except BaseException:
        db.session.rollback()
        raise
    return updated


def model_row(site_id: int) -> SpamModel | None:
    return db.session.get(SpamModel, site_id)


def site_slug(site_id: int) -> str | None:
    return db.session.scalar(sa.select(Site.slug).where(Site.id == site_id))


def recent_decisions(site_id: int, limit: int) -> list[tuple[bool, dict]]:
    """The site's newest decided comments: (is spam, the signals they were
    stored with), newest decision first."""
    rows = _decided(site_id, limit, _comments.c.signals)
    return [(LABELS[r.status], r.signals or {}) for r in rows]

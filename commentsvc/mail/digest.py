"""Digests: per moderator and site, the comments that came in and still wait
since the last digest, gathered hourly or daily by the worker."""

from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Comment,
    CommentStatus,
    ModeratorMailSetting,
    as_utc,
    utcnow,
)
from . import outbox

PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
_settings = ModeratorMailSetting.__table__


def gather(now=None) -> int:
    """Queue every digest that is due; returns how many. Each (moderator,
    site) moves its ``last_digest_at`` with a conditional update in the
    transaction that queues its digest, so two workers never queue it twice.

    Raises:
        sqlalchemy.exc.OperationalError: the database is unavailable.
    """
    now = now or utcnow()
    queued = 0
    try:
        for mode, period in PERIODS.items():
            due = db.session.execute(
                sa.select(_settings).where(
                    _settings.c.mode == mode,
                    sa.or_(
                        _settings.c.last_digest_at.is_(None),
                        _settings.c.last_digest_at <= now - period,
                    ),
                )
            ).all()
            for row in due:
                queued += _one(row, now)
    finally:
        db.session.remove()
    return queued


def _one(row, now) -> int:
    since = as_utc(row.last_digest_at) or now
    moved = db.session.execute(
        sa.update(_settings)
        .where(
            _settings.c.moderator_id == row.moderator_id,
            _settings.c.site_id == row.site_id,
            _settings.c.last_digest_at.is_(None)
            if row.last_digest_at is None
            else _settings.c.last_digest_at == row.last_digest_at,
        )
        .values(last_digest_at=now)
    ).rowcount
    waiting = 0
    if moved and row.last_digest_at is not None:
        waiting = db.session.scalar(
            sa.select(sa.func.count(Comment.id)).where(
                Comment.site_id == row.site_id,
                Comment.status == CommentStatus.PENDING,
                Comment.created_at >= since,
                Comment.created_at < now,
            )
        )
    mailable = row.moderator_id in outbox.moderators_to_mail(
        row.site_id, modes=(row.mode,)
    )
    if waiting and mailable:
        outbox.queue(
            outbox.MODERATOR_DIGEST,
            row.site_id,
            moderator_id=row.moderator_id,
            data={"since": since.isoformat(), "until": now.isoformat()},
        )
    db.session.commit()
    return 1 if waiting and mailable else 0

"""Removing old spam, in small batches so no lock is held for long."""

import re
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentStatus, utcnow

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


# Longer ago than any comment (and "now minus it" stays a date).
_LONGEST = timedelta(days=36500)


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h`` or ``90m`` as a timedelta.

    Raises:
        ValueError: anything else, or over 100 years.
    """
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h or 90m")
    try:
        duration = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        duration = None
    if duration is None or duration > _LONGEST:
        raise ValueError(f"{text!r} is longer than {_LONGEST.days} days")
    return duration


def purge_spam(older_than: timedelta, batch_size: int = 1000) -> int:
    """Delete spam created more than *older_than* ago; return how many.

    Replies to a purged comment keep their place (their parent becomes None,
    and replies under a purged top-level comment become top-level themselves);
    audit rows of purged comments go with them.
    """

    def delete(ids: list[int]) -> None:
        db.session.execute(
            sa.update(Comment).where(Comment.parent_id.in_(ids)).values(parent_id=None)
        )
        db.session.execute(
            sa.update(Comment).where(Comment.root_id.in_(ids)).values(root_id=None)
        )
        db.session.execute(sa.delete(Comment).where(Comment.id.in_(ids)))

    spam = sa.select(Comment.id).where(
        Comment.status == CommentStatus.SPAM,
        Comment.created_at < utcnow() - older_than,
    )
    return _in_batches(spam.limit(batch_size), delete)


def purge_ips(older_than: timedelta, batch_size: int = 5000) -> int:
    """Erase the IP address and user agent of comments created more than
    *older_than* ago; return how many comments were touched. The comments stay."""

    def erase(ids: list[int]) -> None:
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id.in_(ids))
            .values(ip=None, user_agent=None)
        )

    with_ip = sa.select(Comment.id).where(
        Comment.created_at < utcnow() - older_than, Comment.ip.is_not(None)
    )
    return _in_batches(with_ip.limit(batch_size), erase)


def _in_batches(batch, change) -> int:
    """Run *change* on the ids *batch* selects, a transaction per batch, until it
    selects none (each change takes its rows out of the selection); return how
    many ids there were."""
    total = 0
    while True:
        ids = list(db.session.scalars(batch))
        if not ids:
            return total
        try:
            change(ids)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        total += len(ids)

"""The audit page's query: decisions (``moderation_events``) and the other
entries (``audit_entries``) together, newest first, filtered, one keyset page at
a time, and only what the moderator may see.

A non-admin sees the entries of the sites they moderate: decisions, bans and
settings of those sites, and mail settings of their own. Entries of no site
(accounts) and webhook endpoints (admin pages; a URL may carry a token) are for
admins only.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .. import audit
from ..comments.access import allowed_site_ids, visible_to
from ..extensions import db
from ..ids import MAX_ID
from ..models import (
    AuditEntry,
    Comment,
    ModerationEvent,
    Moderator,
    Role,
    Site,
    Thread,
    as_utc,
    moderator_sites,
)

PAGE = 50
KIND_GROUPS = ("decisions", *audit.GROUPS)
# The "who" of the command line and the system (no moderator).
NOBODY = "none"
# Which table an item comes from: breaks ties between equal times.
_DECISION, _ENTRY = 1, 0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadFilter(ValueError):
    """A filter value that names nothing (its message says so)."""


class BadPageLink(BadFilter):
    """A page link (cursor) no page made: its time or id out of range."""


@dataclass(frozen=True)
class TrailFilters:
    site: str | None = None  # a slug
    who: str | None = None  # a username, or NOBODY
    kind: str | None = None  # one of KIND_GROUPS
    comment: str | None = None  # a comment id
    thread: str | None = None  # a thread key


@dataclass(frozen=True)
class Cursor:
    at: datetime
    rank: int
    id: int

    def encode(self) -> str:
        micros = (as_utc(self.at) - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.rank}.{self.id}"

    @classmethod
    def decode(cls, raw: str) -> "Cursor":
        """Raises: BadPageLink: not a cursor this page made."""
        try:
            micros, rank, ident = (int(part) for part in raw.split("."))
            at = _EPOCH + timedelta(microseconds=micros)
        except (ValueError, OverflowError):
            raise BadPageLink("That page link is not valid.") from None
        if rank not in (_DECISION, _ENTRY) or not 0 < ident <= MAX_ID:
            raise BadPageLink("That page link is not valid.")
        return cls(at, rank, ident)


@dataclass(frozen=True)
class Item:
    """One line of the trail: a ModerationEvent or an AuditEntry."""

    at: datetime
    rank: int
    id: int
    record: ModerationEvent | AuditEntry

    @property
    def is_decision(self) -> bool:
        return self.rank == _DECISION


@dataclass(frozen=True)
class TrailPage:
    items: list[Item]
    next_cursor: str | None


def who_choices(viewer: Moderator) -> list[Moderator]:
    """The moderators the viewer may filter by: everyone for an admin; for a
    moderator, those who share a site with them, and the admins."""
    query = sa.select(Moderator).order_by(Moderator.username)
    allowed = allowed_site_ids(viewer)
    if allowed is not None:
        sharing = sa.select(moderator_sites.c.moderator_id).where(
            moderator_sites.c.site_id.in_(allowed or [-1])
        )
        query = query.where(
            sa.or_(
                Moderator.id.in_(sharing),
                Moderator.role == Role.ADMIN,
                Moderator.id == viewer.id,
            )
        )
    return list(db.session.scalars(query))


def _site_id(viewer: Moderator, slug: str) -> int:
    site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == slug))
    allowed = allowed_site_ids(viewer)
    if site_id is None or (allowed is not None and site_id not in allowed):
        raise BadFilter(f"There is no site {slug!r} among yours.")
    return site_id


def _who_id(viewer: Moderator, who: str) -> int | None:
    if who == NOBODY:
        return None
    for moderator in who_choices(viewer):
        if moderator.username == who:
            return moderator.id
    raise BadFilter(f"There is no moderator {who!r} to filter by.")


def _comment_id(raw: str) -> int:
    try:
        value = int(raw.lstrip("#"))
    except ValueError:
        value = 0
    if not 0 < value <= MAX_ID:
        raise BadFilter(f"{raw!r} is not a comment number.")
    return value


def _after(column_at, column_id, rank: int, cursor: Cursor | None):
    """Rows ordered after *cursor* (newest first: by time, rank, then id)."""
    if cursor is None:
        return sa.true()
    at = as_utc(cursor.at)
    if rank < cursor.rank:
        return column_at <= at
    if rank > cursor.rank:
        return column_at < at
    return sa.or_(column_at < at, sa.and_(column_at == at, column_id < cursor.id))


def trail_page(
    viewer: Moderator, filters: TrailFilters, cursor: str | None = None
) -> TrailPage:
    """A page of the trail the viewer may see, newest first.

    Raises:
        BadFilter: a filter value or the cursor names nothing.
    """
    after = Cursor.decode(cursor) if cursor else None
    if filters.kind and filters.kind not in KIND_GROUPS:
        raise BadFilter(f"{filters.kind!r} is not a kind of entry.")
    site_id = _site_id(viewer, filters.site) if filters.site else None
    who = _who_id(viewer, filters.who) if filters.who else False
    comment_id = _comment_id(filters.comment) if filters.comment else None
    thread_comments = None
    if filters.thread:
        thread_comments = sa.select(Comment.id).where(
            Comment.thread_id.in_(
                sa.select(Thread.id).where(Thread.key == filters.thread)
            )
        )
    items = []
    if filters.kind in (None, "decisions"):
        items += _decisions(viewer, site_id, who, comment_id, thread_comments, after)
    if filters.kind != "decisions":
        items += _entries(
            viewer, filters.kind, site_id, who, comment_id, thread_comments, after
        )
    items.sort(key=lambda item: (item.at, item.rank, item.id), reverse=True)
    more = len(items) > PAGE
    items = items[:PAGE]
    last = items[-1] if more else None
    return TrailPage(
        items, Cursor(last.at, last.rank, last.id).encode() if last else None
    )


def _who(column, who):
    if who is False:
        return sa.true()
    return column.is_(None) if who is None else column == who


def _narrowed(query, model, site_id, comment_id, thread_comments):
    """*query* of decisions or entries (*model*) narrowed by the filters both
    tables share: a site, a comment, the comments of a thread."""
    if site_id is not None:
        query = query.where(model.site_id == site_id)
    if comment_id is not None:
        query = query.where(model.comment_id == comment_id)
    if thread_comments is not None:
        query = query.where(model.comment_id.in_(thread_comments))
    return query


def _decisions(viewer, site_id, who, comment_id, thread_comments, after) -> list[Item]:
    e = ModerationEvent
    query = visible_to(viewer, sa.select(e), e.site_id).where(
        _who(e.moderator_id, who), _after(e.created_at, e.id, _DECISION, after)
    )
    query = _narrowed(query, e, site_id, comment_id, thread_comments)
    query = query.options(
        joinedload(e.moderator), joinedload(e.comment).joinedload(Comment.site)
    )
    rows = db.session.scalars(
        query.order_by(e.created_at.desc(), e.id.desc()).limit(PAGE + 1)
    )
    return [Item(as_utc(r.created_at), _DECISION, r.id, r) for r in rows]


def _entries(
    viewer, kind, site_id, who, comment_id, thread_comments, after
) -> list[Item]:
    a = AuditEntry
    query = sa.select(a).where(
        _who(a.moderator_id, who), _after(a.created_at, a.id, _ENTRY, after)
    )
    allowed = allowed_site_ids(viewer)
    if allowed is not None:
        query = query.where(
            a.site_id.in_(allowed or [-1]),
            # Another moderator's mail settings are theirs.
            sa.or_(a.kind != "mail.settings", a.target_id == viewer.id),
            a.kind.not_in(audit.GROUPS["webhooks"]),
        )
    if kind is not None:
        query = query.where(a.kind.in_(audit.GROUPS[kind]))
    query = _narrowed(query, a, site_id, comment_id, thread_comments)
    query = query.options(joinedload(a.moderator), joinedload(a.site))
    rows = db.session.scalars(
        query.order_by(a.created_at.desc(), a.id.desc()).limit(PAGE + 1)
    )
    return [Item(as_utc(r.created_at), _ENTRY, r.id, r) for r in rows]

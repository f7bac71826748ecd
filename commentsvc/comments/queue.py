"""The moderation queue: comments of one status, filtered, keyset-paginated.

Keyset pagination (after the last row's created_at and id) keeps every page as
fast as the first, whatever the table holds; an offset would scan what it skips.
"""

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..accounts.moderation import accounts_by_id
from ..extensions import db
from ..models import Comment, CommentStatus, Moderator, Site, Thread, as_utc
from . import reports, revisions
from .access import visible_to
from .cursors import BadCursor, bounded_id, pack, unpack, utc_time

PAGE_SIZE = 25
# Pending is a queue: oldest first. The other tabs are archives: newest first.
OLDEST_FIRST = {CommentStatus.PENDING}
# The other order a tab can take: most likely to be rejected first (then
# newest), comments never scored last.
LIKELY_REJECTED = "likely_rejected"
SORTS = ("", LIKELY_REJECTED)
_UNSCORED = -1.0


@dataclass
class QueueFilters:
    site: str | None = None
    thread: str | None = None
    author: str | None = None
    email: str | None = None
    ip: str | None = None
    text: str | None = None

    def active(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class QueuePage:
    comments: list[Comment]
    next_cursor: str | None
    history: dict = field(default_factory=dict)
    # The Reported tab: each comment's open reports (see reports.summaries).
    reports: dict = field(default_factory=dict)
    # Published comments' edits awaiting a moderator, by comment id.
    revisions: dict = field(default_factory=dict)
    # The signed-in authors' accounts, by account id.
    accounts: dict = field(default_factory=dict)


def encode_cursor(comment: Comment, sort: str = "") -> str:
    if sort == LIKELY_REJECTED:
        return pack(
            "r",
            repr(reject_score(comment)),
            as_utc(comment.created_at).isoformat(),
            str(comment.id),
        )
    return pack(as_utc(comment.created_at).isoformat(), str(comment.id))


def reject_score(comment: Comment) -> float:
    """The probability the queue sorts *comment* by (_UNSCORED: none)."""
    signals = comment.signals if isinstance(comment.signals, dict) else {}
    found = signals.get("likely_rejected")
    value = found.get("probability") if isinstance(found, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _UNSCORED
    return float(value)


def _reject_score_sql():
    # The same number in SQL (SQLite's JSON_EXTRACT, PostgreSQL's #>>).
    probability = Comment.signals[("likely_rejected", "probability")].as_float()
    return sa.func.coalesce(probability, _UNSCORED)


def decode_sorted_cursor(cursor: str) -> tuple[float, datetime, int]:
    """The (score, created_at, id) a likely_rejected cursor points after.

    Raises:
        BadCursor: not such a cursor.
    """
    try:
        mark, score, when, ident = unpack(cursor)
        value = float(score)
    except ValueError:  # BadCursor, wrong field count, not a number
        raise BadCursor(cursor) from None
    if mark != "r" or not _UNSCORED <= value <= 1.0:  # NaN fails too
        raise BadCursor(cursor)
    return value, utc_time(when), bounded_id(ident)


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (created_at, id) a cursor points after (None: the first page),
    every field bounded (see cursors).

    Raises:
        BadCursor: not a cursor this page wrote.
    """
    if not cursor:
        return None
    try:
        when, ident = unpack(cursor)
    except ValueError:  # BadCursor, or not two fields
        raise BadCursor(cursor) from None
    return utc_time(when), bounded_id(ident)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _apply_filters(query, filters: QueueFilters):
    if filters.site:
        query = query.where(
            Comment.site_id
            == sa.select(Site.id).where(Site.slug == filters.site).scalar_subquery()
        )
    if filters.thread:
        query = query.where(
            Comment.thread_id.in_(
                sa.select(Thread.id).where(Thread.key == filters.thread)
            )
        )
    if filters.author:
        pattern = f"%{_escape_like(filters.author.lower())}%"
        query = query.where(sa.func.lower(Comment.author).like(pattern, escape="\\"))
    if filters.email:
        query = query.where(
            sa.func.lower(Comment.email) == filters.email.strip().lower()
        )
    if filters.ip:
        query = _filter_ip(query, filters.ip.strip())
    if filters.text:
        pattern = f"%{_escape_like(filters.text.lower())}%"
        query = query.where(sa.func.lower(Comment.body).like(pattern, escape="\\"))
    return query


def _filter_ip(query, value: str):
    """An exact address (IPv4-mapped forms count as IPv4), or a prefix ending in
    ``*`` or ``.``/``:`` such as ``203.0.113.*`` for a network."""
    if value.endswith("*") or value.endswith(".") or value.endswith(":"):
        prefix = _escape_like(value.rstrip("*"))
        return query.where(Comment.ip.like(prefix + "%", escape="\\"))
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return query.where(Comment.ip == value)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return query.where(Comment.ip == str(address))


def queue_page(
    moderator: Moderator,
    status: CommentStatus | None,
    filters: QueueFilters | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    sort: str = "",
) -> QueuePage:
    """One page of the queue tab *status* for *moderator*, after *cursor*;
    status None is the Reported tab (comments with open reports, any status,
    newest first). *sort* LIKELY_REJECTED orders any tab by the likelihood
    that the site rejects the comment, highest first (then newest), comments
    never scored last.

    Raises:
        BadCursor: *cursor* is not one this page wrote (for this order).
    """
    filters = filters or QueueFilters()
    query = sa.select(Comment).where(_tab_filter(status))
    query = visible_to(moderator, query, Comment.site_id)
    query = _apply_filters(query, filters)
    if sort == LIKELY_REJECTED:
        order = (_reject_score_sql(), Comment.created_at, Comment.id)
        if cursor:
            query = query.where(sa.tuple_(*order) < decode_sorted_cursor(cursor))
        query = query.order_by(*(o.desc() for o in order))
    else:
        query = _in_time_order(query, status, cursor)
    query = query.options(
        sa.orm.joinedload(Comment.thread),
        sa.orm.joinedload(Comment.site),
        sa.orm.joinedload(Comment.parent),
        sa.orm.joinedload(Comment.moderated_by),
    ).limit(limit + 1)
    rows = list(db.session.scalars(query).unique())
    next_cursor = encode_cursor(rows[limit - 1], sort) if len(rows) > limit else None
    comments = rows[:limit]
    page = QueuePage(comments, next_cursor, author_history(moderator, comments))
    if status is None:
        page.reports = reports.summaries([c.id for c in comments])
    page.revisions = awaiting_revisions(comments)
    page.accounts = accounts_by_id(c.account_id for c in comments)
    return page


def _in_time_order(query, status: CommentStatus | None, cursor: str | None):
    position = decode_cursor(cursor)
    oldest_first = status in OLDEST_FIRST
    if position is not None:
        key = sa.tuple_(Comment.created_at, Comment.id)
        query = query.where(key > position if oldest_first else key < position)
    order = (Comment.created_at, Comment.id)
    return query.order_by(*(o if oldest_first else o.desc() for o in order))


def _tab_filter(status: CommentStatus | None):
    if status is None:
        return reports.reported_filter()
    if status == CommentStatus.PENDING:
        # Published comments whose edit awaits a moderator wait here too.
        awaiting = revisions.awaiting_filter()
        if awaiting is not None:
            return sa.or_(Comment.status == status, awaiting)
    return Comment.status == status


def awaiting_revisions(comments: list[Comment]) -> dict:
    """The pending revisions of the published *comments*, by comment id."""
    return revisions.pending_for(
        c.id for c in comments if c.status == CommentStatus.APPROVED
    )


# Counting stops here: the badge reads "10000+" rather than count a huge backlog
# on every page view (an exact count of 100,000 rows costs more than the page).
PENDING_COUNT_CAP = 10_000


def pending_count(moderator: Moderator) -> int:
    """How many comments (and published comments' edits) wait in *moderator*'s
    queue, up to PENDING_COUNT_CAP + 1 (the other tabs are archives: counting
    them would scan most of the table)."""
    query = sa.select(sa.literal(1)).where(_tab_filter(CommentStatus.PENDING))
    query = visible_to(moderator, query, Comment.site_id)
    capped = query.limit(PENDING_COUNT_CAP + 1).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(capped))


def reported_count(moderator: Moderator) -> int:
    """How many of *moderator*'s comments have open reports, up to
    PENDING_COUNT_CAP + 1: the Reported tab's count, so that reports are seen."""
    query = sa.select(sa.literal(1)).where(reports.reported_filter())
    query = visible_to(moderator, query, Comment.site_id)
    capped = query.limit(PENDING_COUNT_CAP + 1).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(capped))


def author_history(moderator: Moderator, comments: list[Comment]) -> dict:
    """Counts by status for the emails and IPs on a page, over the sites
    *moderator* moderates only (another site's activity is not theirs to see):
    ``{"email": {email: {status: n}}, "ip": {ip: {status: n}}}``."""
    history = {"email": {}, "ip": {}}
    for kind, column in (("email", Comment.email), ("ip", Comment.ip)):
        values = {getattr(c, kind) for c in comments if getattr(c, kind)}
        if not values:
            continue
        query = (
            sa.select(column, Comment.status, sa.func.count())
            .where(column.in_(values))
            .group_by(column, Comment.status)
        )
        rows = db.session.execute(visible_to(moderator, query, Comment.site_id))
        for value, status, count in rows:
            history[kind].setdefault(value, {})[status.value] = count
    return history

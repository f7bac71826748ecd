"""A thread's public listing, one page at a time.

Pages go by top-level comments in the thread's order (oldest first), each with
its replies, oldest first. A page carries at most ``page_size`` top-level
comments, at most ``replies`` replies under each, and never more than
``MAX_PAGE_BYTES`` of JSON; what did not fit is reached through cursors:

- ``next``: the page after this one (``null`` on the last page);
- ``more_replies``: for each top-level comment whose replies were cut, a cursor
  to the rest of them (a page of replies, which has its own ``next``).

Cursors are positions, not offsets: ``(created_at, id)`` of the last comment
served, so reading every page in turn returns every approved comment exactly
once even while others are approved in between. A top-level comment that is no
longer published still holds its place for the published replies under it; a
deleted one (or a deleted reply with published replies) is shown as a
placeholder (``"deleted": true``, no author or text).

Top-level comments come oldest first, or newest first (``newest``); replies are
always oldest first under their top-level comment. A cursor records its order,
so it stays valid for the order it was given in only.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentStatus, Thread, as_utc, iso8601
from .cursors import BadCursor, bounded_id, pack, unpack, utc_time

# The bound: no page over 256 KB, whatever the comments hold.
MAX_PAGE_BYTES = 256 * 1024
# The envelope around the comments (site, thread, count, cursors, config) is
# small; this much of the budget is kept for it.
_ENVELOPE_BYTES = 8 * 1024

# A top-level comment shown in its place: published, or a placeholder.
_SHOWN = (CommentStatus.APPROVED, CommentStatus.DELETED)

# Before any reply: where the replies of a top-level comment start.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_COLUMNS = (
    Comment.id,
    Comment.parent_id,
    Comment.root_id,
    Comment.author,
    Comment.body_html,
    Comment.created_at,
    Comment.edited_at,
    Comment.status,
    Comment.badge,
)


@dataclass(frozen=True)
class Position:
    """Where a page starts: after (created_at, id), among the top-level comments
    (root None) or among the replies under the top-level comment *root*."""

    root: int | None
    created_at: datetime
    id: int
    newest: bool = False


@dataclass
class Page:
    comments: list[dict]
    next: str | None
    more_replies: dict[str, str]


def encode_cursor(
    root: int | None, created_at: datetime, ident: int, newest: bool = False
) -> str:
    fields = [str(root or ""), as_utc(created_at).isoformat(), str(ident)]
    return pack(*fields, *(["n"] if newest else []))


def decode_cursor(cursor: str) -> Position:
    """The position a cursor points after, every field bounded (see cursors).

    Raises:
        BadCursor: it is not one of ours.
    """
    try:
        root, when, ident, *order = unpack(cursor)
    except ValueError:  # BadCursor, or too few fields
        raise BadCursor(cursor) from None
    if order not in ([], ["n"]):
        raise BadCursor(cursor)
    return Position(
        bounded_id(root) if root else None,
        utc_time(when),
        bounded_id(ident, least=0),  # 0: before every reply
        bool(order),
    )


def _public(row) -> dict:
    if row.status == CommentStatus.DELETED:
        # Holds the place of its published replies; nothing of it is shown.
        return {
            "id": row.id,
            "parent_id": row.parent_id,
            "author": "",
            "html": "",
            "created_at": iso8601(row.created_at),
            "edited_at": None,
            "deleted": True,
        }
    shown = {
        "id": row.id,
        "parent_id": row.parent_id,
        "author": row.author,
        "html": row.body_html,
        "created_at": iso8601(row.created_at),
        "edited_at": iso8601(row.edited_at),
    }
    if row.badge:
        # "staff": written by the site's staff (accounts); absent otherwise.
        shown["badge"] = row.badge
    return shown


def serialized_size(item: dict) -> int:
    return len(json.dumps(item, ensure_ascii=False, separators=(",", ":"))) + 1


def approved_count(thread: int) -> int:
    """The thread's approved comments, all pages together."""
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(Comment)
        .where(Comment.thread_id == thread, Comment.status == CommentStatus.APPROVED)
    ).scalar_one()


def thread_id(site_id: int, thread_key: str) -> int | None:
    return db.session.execute(
        sa.select(Thread.id).where(Thread.site_id == site_id, Thread.key == thread_key)
    ).scalar()


def thread_row(site_id: int, thread_key: str):
    """The thread's id, ``comments_open`` and ``created_at`` (what closing
    needs), or None if it does not exist."""
    return db.session.execute(
        sa.select(Thread.id, Thread.comments_open, Thread.created_at).where(
            Thread.site_id == site_id, Thread.key == thread_key
        )
    ).first()


def approved_counts(site_id: int, thread_keys: list[str]) -> dict[str, int]:
    """The approved comments of each of the site's threads *thread_keys* (a
    thread without any, or that does not exist, is absent), in one query."""
    if not thread_keys:
        return {}
    rows = db.session.execute(
        sa.select(Thread.key, sa.func.count(Comment.id))
        .join(Comment, Comment.thread_id == Thread.id)
        .where(
            Thread.site_id == site_id,
            Thread.key.in_(thread_keys),
            Comment.status == CommentStatus.APPROVED,
        )
        .group_by(Thread.key)
    )
    return {key: count for key, count in rows}


def _after(position: Position | None, newest: bool = False):
    if position is None:
        return sa.true()
    key = sa.tuple_(Comment.created_at, Comment.id)
    if newest:
        return key < (position.created_at, position.id)
    return key > (position.created_at, position.id)


def _top_level(
    thread: int, position: Position | None, limit: int, newest: bool = False
) -> list:
    """Top-level comments to show, in order: published ones, and unpublished
    ones with published replies (the replies keep their place)."""
    member = sa.orm.aliased(Comment)
    has_published_reply = (
        sa.select(member.id)
        .where(member.root_id == Comment.id, member.status == CommentStatus.APPROVED)
        .exists()
    )
    return list(
        db.session.execute(
            sa.select(*_COLUMNS)
            .where(
                Comment.thread_id == thread,
                Comment.root_id.is_(None),
                _after(position, newest),
                sa.or_(Comment.status == CommentStatus.APPROVED, has_published_reply),
            )
            .order_by(
                *(
                    (Comment.created_at.desc(), Comment.id.desc())
                    if newest
                    else (Comment.created_at, Comment.id)
                )
            )
            .limit(limit)
        )
    )


def _replies(roots: list[int], position: Position | None, each: int) -> dict:
    """Up to *each* published replies under each of *roots*, oldest first (and
    deleted ones with published replies of their own, as placeholders)."""
    if not roots:
        return {}
    child = sa.orm.aliased(Comment)
    has_published_reply = (
        sa.select(child.id)
        .where(child.parent_id == Comment.id, child.status == CommentStatus.APPROVED)
        .exists()
    )
    ranked = (
        sa.select(
            *_COLUMNS,
            sa.func.row_number()
            .over(
                partition_by=Comment.root_id,
                order_by=(Comment.created_at, Comment.id),
            )
            .label("rank"),
        )
        .where(
            Comment.root_id.in_(roots),
            sa.or_(
                Comment.status == CommentStatus.APPROVED,
                sa.and_(Comment.status == CommentStatus.DELETED, has_published_reply),
            ),
            _after(position),
        )
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked)
        .where(ranked.c.rank <= each)
        .order_by(ranked.c.root_id, ranked.c.created_at, ranked.c.id)
    )
    found: dict[int, list] = {}
    for row in rows:
        found.setdefault(row.root_id, []).append(row)
    return found


def _fit(rows: list, budget: int, first: bool) -> tuple[list[dict], int]:
    """The leading *rows* whose JSON fits in *budget* bytes, and their size;
    the *first* item of a page is taken whatever its size (a comment stored
    before the size check at posting could be larger than a page)."""
    items, used = [], 0
    for row in rows:
        item = _public(row)
        size = serialized_size(item)
        if used + size > budget and not (first and not items):
            break
        items.append(item)
        used += size
    return items, used


def top_page(
    thread: int,
    position: Position | None,
    page_size: int,
    replies: int,
    newest: bool = False,
) -> Page:
    """A page of top-level comments (after *position*, oldest or *newest*
    first), each with its replies."""
    units = _top_level(thread, position, page_size + 1, newest)
    under = _replies([u.id for u in units[:page_size]], None, replies + 1)
    budget = MAX_PAGE_BYTES - _ENVELOPE_BYTES
    page = Page([], None, {})
    last = None
    for index, unit in enumerate(units):
        if index == page_size:
            page.next = encode_cursor(None, last.created_at, last.id, newest)
            break
        shown = [unit] if unit.status in _SHOWN else []
        members = under.get(unit.id, [])
        items, used = _fit(shown + members[:replies], budget, not page.comments)
        if len(items) < len(shown) + min(len(members), replies) and page.comments:
            # The whole top-level comment (with its first replies) goes on the
            # next page rather than be cut here.
            page.next = encode_cursor(None, last.created_at, last.id, newest)
            break
        page.comments += items
        budget -= used
        last = unit
        served_replies = len(items) - len(shown)
        if served_replies < len(members):
            after = members[served_replies - 1] if served_replies else None
            page.more_replies[str(unit.id)] = encode_cursor(
                unit.id,
                after.created_at if after else _EPOCH,
                after.id if after else 0,
                newest,
            )
    return page


def replies_page(thread: int, position: Position, page_size: int) -> Page:
    """The replies under the top-level comment *position.root*, after it.

    Raises:
        BadCursor: that comment is not a top-level comment of this thread.
    """
    root = db.session.execute(
        sa.select(Comment.thread_id, Comment.root_id).where(Comment.id == position.root)
    ).first()
    if root is None or root.thread_id != thread or root.root_id is not None:
        raise BadCursor(str(position.root))
    rows = _replies([position.root], position, page_size + 1).get(position.root, [])
    items, _ = _fit(rows[:page_size], MAX_PAGE_BYTES - _ENVELOPE_BYTES, True)
    page = Page(items, None, {})
    if len(items) < len(rows):
        last = rows[len(items) - 1]
        page.next = encode_cursor(
            position.root, last.created_at, last.id, position.newest
        )
    return page

"""Threads: the race-free creation of a thread on its first post, and its title.

A thread's URL is fixed by its first post (which must name a page on one of the
site's origins). Its title is not: whoever posts first could claim it. The title
is the one offered by the thread's latest approved comment (each comment stores
the title its post offered), so only what a moderator (or the site's trust in an
author) let through is ever shown as a page's title.
"""

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Comment, CommentStatus, Thread, utcnow
from .cache import invalidate_key, read_cache, thread_key


class ThreadRef(NamedTuple):
    """A thread's row as posts use it (what _FIND selects)."""

    id: int
    key: str
    url: str
    title: str | None
    # What closing.is_closed needs: a moderator's choice, and the first post's time.
    comments_open: bool | None = None
    created_at: datetime | None = None


_threads = Thread.__table__
_comments = Comment.__table__
# Built once: every post runs it.
_FIND = sa.select(
    _threads.c.id,
    _threads.c.key,
    _threads.c.url,
    _threads.c.title,
    _threads.c.comments_open,
    _threads.c.created_at,
).where(
    _threads.c.site_id == sa.bindparam("site_id"), _threads.c.key == sa.bindparam("key")
)
_LATEST_APPROVED_TITLE = (
    sa.select(_comments.c.page_title)
    .where(
        _comments.c.thread_id == sa.bindparam("thread_id"),
        _comments.c.status == CommentStatus.APPROVED,
        _comments.c.page_title.is_not(None),
    )
    .order_by(_comments.c.created_at.desc(), _comments.c.id.desc())
    .limit(1)
)


def find_thread(site, key: str) -> ThreadRef | None:
    """The thread *key* of *site* as posts use it, or None if it does not exist
    yet (cached like :func:`get_or_create_thread`'s rows)."""
    cache = read_cache()
    cache_key = thread_key(site.slug, key)
    thread = cache.get(cache_key)
    if thread is not None:
        return thread
    generation = cache.generation
    row = (
        db.session.connection().execute(_FIND, {"site_id": site.id, "key": key}).first()
    )
    if row is None:
        return None
    thread = ThreadRef(*row)
    cache.put(cache_key, thread, generation)
    return thread


def get_or_create_thread(site, key: str, url: str):
    """Return the thread *key* of *site* (its id, key, url and title), creating
    it on its first post, in the current transaction. A new thread has no title
    until one of its comments is approved (see :func:`approved_title`).

    The rows posts find are cached in-process with the site's reads (a thread
    made by this transaction is not: it may yet be rolled back); a change of
    title drops the entry (:func:`forget_cached`).

    Concurrent first posts race on the unique (site, key) constraint: the insert
    does nothing when another transaction got there first, so exactly one row is
    ever made and nobody sees an IntegrityError.
    """
    cache = read_cache()
    cache_key = thread_key(site.slug, key)
    thread = cache.get(cache_key)
    if thread is not None:
        return thread
    generation = cache.generation
    connection = db.session.connection()
    params = {"site_id": site.id, "key": key}
    thread = connection.execute(_FIND, params).first()
    if thread is not None:
        thread = ThreadRef(*thread)
        cache.put(cache_key, thread, generation)
        return thread  # the common case: one query
    insert = (
        postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    )
    connection.execute(
        insert(_threads)
        .values(site_id=site.id, key=key, url=url, title=None, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["site_id", "key"])
    )
    # Inserted above, or by the transaction the insert waited for.
    return ThreadRef(*connection.execute(_FIND, params).one())


def approved_title(thread_id: int) -> str | None:
    """The title offered by the thread's latest approved comment that offered
    one (None if none did), read in the current transaction."""
    return (
        db.session.connection()
        .execute(_LATEST_APPROVED_TITLE, {"thread_id": thread_id})
        .scalar()
    )


def set_title(thread_id: int, title: str | None) -> bool:
    """Give the thread *title* in the current transaction; True if it changed
    (the caller then drops the cached row after the commit: forget_cached)."""
    result = db.session.connection().execute(
        sa.update(_threads)
        .where(_threads.c.id == thread_id, _threads.c.title.is_distinct_from(title))
        .values(title=title)
    )
    return result.rowcount == 1


def forget_cached(site_slug: str, key: str) -> None:
    """The thread's row changed (its title, open or closed): drop it from every
    process's cache. Call after the commit."""
    invalidate_key(thread_key(site_slug, key))

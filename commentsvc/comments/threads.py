"""Threads: the race-free creation of a thread on its first post."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Thread, utcnow
from .cache import read_cache, thread_key

_threads = Thread.__table__
# Built once: every post runs it.
_FIND = sa.select(
    _threads.c.id, _threads.c.key, _threads.c.url, _threads.c.title
).where(
    _threads.c.site_id == sa.bindparam("site_id"), _threads.c.key == sa.bindparam("key")
)


def get_or_create_thread(site, key: str, url: str, title: str | None):
    """Return the thread *key* of *site* (its id, key, url and title), creating
    it on its first post, in the current transaction.

    A thread row never changes once made, so the rows posts find are cached
    in-process with the site's reads (a thread made by this transaction is not:
    it may yet be rolled back).

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
        cache.put(cache_key, thread, generation)
        return thread  # the common case: one query
    insert = (
        postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    )
    connection.execute(
        insert(_threads)
        .values(site_id=site.id, key=key, url=url, title=title, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["site_id", "key"])
    )
    # Inserted above, or by the transaction the insert waited for.
    return connection.execute(_FIND, params).one()

"""One rebuild of a listing page at a time, across every process.

A page missing from a process's read cache is built from the database by one
process only: it takes a lock in Redis, builds, and leaves the result in Redis
for the processes that missed the same page meanwhile, which wait for it (up
to ``LISTING_REBUILD_WAIT`` seconds) instead of building it too. The result is
a hand-off, not a cache: a process that misses later takes the lock and builds.
So a popular thread whose listing was just invalidated costs one database read,
not one per process and thread that asks.

Results are filed under the site's and the thread's version numbers, which every
invalidation raises (see :func:`bump`): a result built before a change is never
handed to a reader who asked after it. Without Redis each process builds alone.
"""

import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable

from flask import current_app
from redis.exceptions import RedisError

from ..extensions import get_redis
from ..metrics import LISTING_BUILDS

log = logging.getLogger(__name__)

# How long a builder may hold the lock (a build slower than this lets a second
# process start).
LOCK_MS = 10_000
# Version numbers of idle threads are forgotten after a day.
VERSION_TTL = 86_400
_POLL = 0.02


def _names(slug: str, thread: str) -> tuple[str, str]:
    prefix = current_app.config["REDIS_KEY_PREFIX"] + "listing:"
    digest = hashlib.sha256(thread.encode()).hexdigest()[:32]
    return f"{prefix}v:{slug}", f"{prefix}v:{slug}:{digest}"


def bump(pipeline, slug: str, thread: str | None) -> None:
    """Add to *pipeline* what outdates the site's (or one thread's) results."""
    site_version, thread_version = _names(slug, thread or "")
    name = site_version if thread is None else thread_version
    pipeline.incr(name)
    pipeline.expire(name, VERSION_TTL)


def _encode(etag: str, body: bytes) -> bytes:
    return etag.encode() + b"\n" + body


def _decode(raw: bytes) -> tuple[str, bytes]:
    etag, _, body = raw.partition(b"\n")
    return etag.decode(), body


def shared(
    slug: str, thread: str, page: str, build: Callable[[], tuple[str, bytes]]
) -> tuple[str, bytes]:
    """The page (etag, body) built once for every process that asks at once.

    *build* reads the database; it runs here if no other process is building
    the same version of the page, or if that one takes too long.

    Raises:
        whatever *build* raises (sqlalchemy.exc.SQLAlchemyError).
    """
    try:
        client = get_redis()
        names = _names(slug, thread)
        site_version, thread_version = client.mget(names)
        page_digest = hashlib.sha256(page.encode()).hexdigest()[:16]
        base = (
            f"{names[1]}:{page_digest}:"
            f"{int(site_version or 0)}:{int(thread_version or 0)}"
        )
        result_name, lock_name = base + ":built", base + ":lock"
        holding = bool(client.set(lock_name, uuid.uuid4().hex, nx=True, px=LOCK_MS))
        if not holding:
            waited = _wait(client, result_name)
            if waited is not None:
                LISTING_BUILDS.labels("shared").inc()
                return _decode(waited)
    except (RedisError, OSError):
        LISTING_BUILDS.labels("alone").inc()
        return build()
    try:
        etag, body = build()
    except BaseException:
        if holding:
            _release(client, lock_name)
        raise
    LISTING_BUILDS.labels("built").inc()
    try:
        with client.pipeline(transaction=False) as pipeline:
            pipeline.set(result_name, _encode(etag, body), px=_handoff_ms())
            pipeline.delete(lock_name)
            pipeline.execute()
    except (RedisError, OSError):
        log.warning("a rebuilt listing was not shared (Redis down)")
    return etag, body


def _handoff_ms() -> int:
    # The result is for the processes waiting now, not a cache: it outlives
    # their wait by a little, and a process that asks later builds again.
    return int(current_app.config["LISTING_REBUILD_WAIT"] * 1000) + 1000


def _release(client, lock_name: str) -> None:
    # Let a waiting process build at once rather than wait for the lock to expire.
    with contextlib.suppress(RedisError, OSError):
        client.delete(lock_name)


def _wait(client, result_name: str) -> bytes | None:
    deadline = time.monotonic() + current_app.config["LISTING_REBUILD_WAIT"]
    while time.monotonic() < deadline:
        time.sleep(_POLL)
        found = client.get(result_name)
        if found is not None:
            return found
    return None

"""An in-process cache of what public reads serve: each site's public view and
each thread's serialized listing (bytes and ETag).

The database stays the source of truth. A change that alters a listing
(a moderation decision, a comment published at once, a site's settings) drops
the entry here and tells every other process through Redis pub/sub; a process
whose subscription dropped (Redis down) clears everything when it reconnects,
and entries never outlive CACHE_TTL even if a message was lost.

The cache is bounded by bytes, not entries, in three parts that cannot evict
one another: first pages of threads with comments (and the small per-site
entries), later pages, and empty listings. Reading random thread keys, or
walking every page of a huge thread, only churns its own part.
"""

import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, current_app
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SiteView:
    """What a public read needs to know about a site."""

    id: int
    slug: str
    allowed_origins: tuple[str, ...]
    config: dict
    # Threads close this many days after their first comment (None: never).
    close_after_days: int | None = None


@dataclass(frozen=True)
class Listing:
    body: bytes
    etag: str
    empty: bool = False

    @property
    def cache_size(self) -> int:
        return len(self.body) + 200


# What an entry without a size of its own is counted as (site views, settings,
# thread rows: a few hundred bytes each, counted generously).
ENTRY_BYTES = 1024
# The shares of the byte budget: first pages and per-site entries, later pages,
# empty listings.
PARTS = {"main": 0.75, "deep": 0.2, "empty": 0.05}


@dataclass(frozen=True)
class Count:
    """A thread's approved comments, for the counts of article lists."""

    n: int

    @property
    def cache_size(self) -> int:
        return 120  # the key (a thread key of up to 512 bytes, usually short) and this


def _part(key: tuple, value) -> str:
    if key[0] == "count":
        # Unknown (or empty) threads asked for by a list page churn their own part.
        return "empty" if value.n == 0 else "main"
    if key[0] == "listing":
        if getattr(value, "empty", False):
            return "empty"
        if len(key) > 3 and key[3]:
            return "deep"
    return "main"


class _Part:
    """One least-recently-used part of the cache, bounded by bytes."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self.entries: OrderedDict = OrderedDict()

    def pop(self, key) -> None:
        found = self.entries.pop(key, None)
        if found is not None:
            self.used -= found[2]

    def put(self, key, value, size: int) -> None:
        self.pop(key)
        if size > self.budget:
            return  # never worth every other entry
        self.entries[key] = (time.monotonic(), value, size)
        self.used += size
        while self.used > self.budget:
            _, (_, _, dropped) = self.entries.popitem(last=False)
            self.used -= dropped


def site_key(slug: str) -> tuple:
    return ("site", slug)


def settings_key(slug: str) -> tuple:
    return ("settings", slug)


def bans_key(slug: str) -> tuple:
    return ("bans", slug)


def thread_key(slug: str, thread: str) -> tuple:
    return ("thread", slug, thread)


def listing_key(slug: str, thread: str, cursor: str = "", sort: str = "") -> tuple:
    # The sort asked for (not the one in force): "" and the site's default
    # are two entries with the same page, which a change to the default drops.
    return ("listing", slug, thread, cursor, sort)


def count_key(slug: str, thread: str) -> tuple:
    return ("count", slug, thread)


def spam_model_key(slug: str) -> tuple:
    return ("spam_model", slug)


class ReadCache:
    def __init__(self, app: Flask, ttl: float, max_bytes: int):
        self.app = app
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._parts = {
            name: _Part(int(max_bytes * share)) for name, share in PARTS.items()
        }
        # Bumped on every invalidation: a read that began before one must not
        # store what it read.
        self.generation = 0
        self._subscriber: threading.Thread | None = None
        # Set while the invalidation subscription is live.
        self.subscribed = threading.Event()
        self._channel = app.config["REDIS_KEY_PREFIX"] + "cache:invalidate"

    # -- reading and storing -------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key):
        if not self.enabled:
            return None
        self._ensure_subscriber()
        with self._lock:
            for part in self._parts.values():
                found = part.entries.get(key)
                if found is None:
                    continue
                stored_at, value, _ = found
                if time.monotonic() - stored_at > self.ttl:
                    part.pop(key)
                    return None
                part.entries.move_to_end(key)
                return value
            return None

    def put(self, key, value, generation: int) -> None:
        """Store *value* unless an invalidation came since *generation*."""
        if not self.enabled:
            return  # caching off
        size = getattr(value, "cache_size", ENTRY_BYTES)
        with self._lock:
            if generation != self.generation:
                return
            for part in self._parts.values():
                part.pop(key)  # an entry may change parts (a listing no longer empty)
            self._parts[_part(key, value)].put(key, value, size)

    def usage(self) -> dict[str, tuple[int, int]]:
        """Bytes used and entries held, by part."""
        with self._lock:
            return {n: (p.used, len(p.entries)) for n, p in self._parts.items()}

    # -- invalidation --------------------------------------------------------
    def drop(self, site: str, thread: str | None = None) -> None:
        """Forget the site's view, listings and counts (one thread's, or all)."""
        with self._lock:
            self.generation += 1
            for part in self._parts.values():
                for key in list(part.entries):
                    if key[1] != site:
                        continue
                    if thread is None or (
                        key[0] in ("listing", "count") and key[2] == thread
                    ):
                        part.pop(key)

    def forget(self, key: tuple) -> None:
        """Drop one entry (another process may hold it too: see publish_key)."""
        with self._lock:
            self.generation += 1
            for part in self._parts.values():
                part.pop(key)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            for part in self._parts.values():
                part.entries.clear()
                part.used = 0

    def publish(self, site: str, thread: str | None = None) -> None:
        """Drop here, and tell the other processes (after the commit); rebuilt
        pages shared through Redis before the change are outdated too."""
        self.drop(site, thread)
        self._broadcast({"site": site, "thread": thread}, (site, thread))

    def publish_key(self, key: tuple) -> None:
        """Drop one entry here and in the other processes (after the commit)."""
        self.forget(key)
        self._broadcast({"key": list(key)})

    def _broadcast(self, message: dict, outdated: tuple | None = None) -> None:
        try:
            with self.app.app_context():
                from ..extensions import get_redis
                from .flight import bump

                with get_redis().pipeline(transaction=False) as pipeline:
                    if outdated is not None:
                        bump(pipeline, *outdated)
                    pipeline.publish(self._channel, json.dumps(message))
                    pipeline.execute()
        except (RedisError, OSError):
            log.warning("cache invalidation not broadcast (Redis down): TTL applies")

    # -- the subscriber --------------------------------------------------------
    def _ensure_subscriber(self) -> None:
        # Started on first use, in the serving process (after gunicorn forks).
        if self._subscriber is not None and self._subscriber.is_alive():
            return
        with self._lock:
            if self._subscriber is not None and self._subscriber.is_alive():
                return
            self._subscriber = threading.Thread(
                target=self._listen, name="commentsvc-cache-invalidation", daemon=True
            )
            self._subscriber.start()

    def _listen(self) -> None:
        import redis

        backoff = 0.5
        while True:
            client = redis.Redis.from_url(
                self.app.config["REDIS_URL"],
                socket_connect_timeout=self.app.config["REDIS_SOCKET_TIMEOUT"],
                socket_keepalive=True,
                health_check_interval=15,
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                # Whatever happened while we were not listening is unknown.
                self.clear()
                self.subscribed.set()
                backoff = 0.5
                while True:
                    message = pubsub.get_message(timeout=5.0)
                    if message and message.get("type") == "message":
                        self._apply(message["data"])
            except (RedisError, OSError):
                self.subscribed.clear()
            finally:
                # A broken connection is closed here, not left to the garbage
                # collector, before the next attempt opens another.
                pubsub.close()
                client.close()
            time.sleep(backoff)
            backoff = min(backoff * 2, 10)

    def _apply(self, raw) -> None:
        try:
            data = json.loads(raw)
            if "key" in data:
                self.forget(tuple(str(part) for part in data["key"]))
            else:
                self.drop(str(data["site"]), data.get("thread"))
        except (ValueError, KeyError, TypeError):
            self.clear()


def read_cache() -> ReadCache:
    return current_app.extensions["commentsvc.read_cache"]


def invalidate(site_slug: str, thread_key: str | None = None) -> None:
    """A listing (or a whole site) changed: call after the commit."""
    cache = current_app.extensions.get("commentsvc.read_cache")
    if cache is not None:
        cache.publish(site_slug, thread_key)


def invalidate_key(key: tuple) -> None:
    """One cached entry changed (a site's spam model): call after the commit."""
    cache = current_app.extensions.get("commentsvc.read_cache")
    if cache is not None:
        cache.publish_key(key)


def init_app(app: Flask) -> None:
    app.extensions["commentsvc.read_cache"] = ReadCache(
        app, ttl=app.config["READ_CACHE_TTL"], max_bytes=app.config["READ_CACHE_BYTES"]
    )

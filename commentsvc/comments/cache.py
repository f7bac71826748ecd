"""An in-process cache of what public reads serve: each site's public view and
each thread's serialized listing (bytes and ETag).

The database stays the source of truth. A change that alters a listing
(a moderation decision, a comment published at once, a site's settings) drops
the entry here and tells every other process through Redis pub/sub; a process
whose subscription dropped (Redis down) clears everything when it reconnects,
and entries never outlive CACHE_TTL even if a message was lost.
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


@dataclass(frozen=True)
class Listing:
    body: bytes
    etag: str


def site_key(slug: str) -> tuple:
    return ("site", slug)


def settings_key(slug: str) -> tuple:
    return ("settings", slug)


def bans_key(slug: str) -> tuple:
    return ("bans", slug)


def thread_key(slug: str, thread: str) -> tuple:
    return ("thread", slug, thread)


def listing_key(slug: str, thread: str) -> tuple:
    return ("listing", slug, thread)


def spam_model_key(slug: str) -> tuple:
    return ("spam_model", slug)


class ReadCache:
    def __init__(self, app: Flask, ttl: float, max_entries: int):
        self.app = app
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict = OrderedDict()
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
            found = self._entries.get(key)
            if found is None:
                return None
            stored_at, value = found
            if time.monotonic() - stored_at > self.ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key, value, generation: int) -> None:
        """Store *value* unless an invalidation came since *generation*."""
        if not self.enabled:
            return  # caching off
        with self._lock:
            if generation != self.generation:
                return
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    # -- invalidation --------------------------------------------------------
    def drop(self, site: str, thread: str | None = None) -> None:
        """Forget the site's view and listings (one thread, or all of them)."""
        with self._lock:
            self.generation += 1
            for key in list(self._entries):
                if key[1] != site:
                    continue
                if thread is None or key == listing_key(site, thread):
                    del self._entries[key]

    def forget(self, key: tuple) -> None:
        """Drop one entry (another process may hold it too: see publish_key)."""
        with self._lock:
            self.generation += 1
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def publish(self, site: str, thread: str | None = None) -> None:
        """Drop here, and tell the other processes (after the commit)."""
        self.drop(site, thread)
        self._broadcast({"site": site, "thread": thread})

    def publish_key(self, key: tuple) -> None:
        """Drop one entry here and in the other processes (after the commit)."""
        self.forget(key)
        self._broadcast({"key": list(key)})

    def _broadcast(self, message: dict) -> None:
        try:
            with self.app.app_context():
                from ..extensions import get_redis

                get_redis().publish(self._channel, json.dumps(message))
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
        app, ttl=app.config["READ_CACHE_TTL"], max_entries=app.config["READ_CACHE_SIZE"]
    )

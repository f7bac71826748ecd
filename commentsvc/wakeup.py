"""Waiting for work: a Redis message wakes a worker at once; without Redis the
worker sleeps out its poll interval, and polling the database keeps it going.
The webhook and spam-training workers both wait this way."""

import contextlib
import logging
import threading
import time

from redis.exceptions import RedisError

from .extensions import get_redis

log = logging.getLogger(__name__)


class Wakeup:
    """Waits until a message on *channel* or the timeout passes (or *stop* is
    set). Needs an app context when it (re)subscribes."""

    def __init__(self, stop: threading.Event, channel: str, name: str):
        self.stop = stop
        self.channel = channel
        self.name = name
        self.pubsub = None
        # Said "polling only" since the last subscription: said once, not on
        # every poll that tries again (a busy machine showed it twice).
        self.said_polling = False

    def _subscribe(self) -> None:
        pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
        except (RedisError, OSError) as error:
            if not self.said_polling:
                log.info("%s: Redis unavailable (%s); polling only", self.name, error)
                self.said_polling = True
            with contextlib.suppress(RedisError, OSError):
                pubsub.close()
            return
        self.pubsub = pubsub
        self.said_polling = False

    def wait(
        self,
        timeout: float,
        settle: float = 0.0,
        also: threading.Event | None = None,
    ) -> bool:
        """Wait; True if a message came (then *settle* seconds more, so that a
        burst of messages wakes the worker once). Setting *also* ends the wait
        too, without a message."""
        deadline = time.monotonic() + timeout
        # Watching *also* as well means looking at it often.
        step = 1.0 if also is None else 0.05
        if self.pubsub is None:
            self._subscribe()
        while not self.stop.is_set():
            if also is not None and also.is_set():
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.pubsub is None:
                self.stop.wait(min(remaining, step))
                continue
            try:
                message = self.pubsub.get_message(timeout=min(remaining, step))
            except (RedisError, OSError, ValueError) as error:
                log.info("%s: lost Redis (%s); polling only", self.name, error)
                self.said_polling = True
                self.close()
                continue
            if message is not None:
                if settle:
                    self.stop.wait(settle)
                self._drain()
                return True
        return False

    def _drain(self) -> None:
        with contextlib.suppress(RedisError, OSError, ValueError):
            while self.pubsub.get_message(timeout=0) is not None:
                pass

    def close(self) -> None:
        if self.pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                self.pubsub.close()
            self.pubsub = None


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event, enabled: bool = True):
    """While inside, SIGTERM and SIGINT set *stop* (the worker finishes what is
    in hand, then exits) instead of killing the process mid-transaction."""
    import signal

    previous = {}
    if enabled and threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

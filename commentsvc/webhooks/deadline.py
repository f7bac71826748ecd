"""A deadline on a whole delivery attempt, however slowly the receiver answers.

urllib3's timeouts, ``Timeout(total=...)`` included, bound each socket operation,
not the attempt: a receiver that sends one byte a second never trips them (its
own docs say so). So the sender bounds each socket operation by the time left,
and a :class:`Watchdog` thread cuts the connection of any attempt still running
a moment after its deadline: a TCP shutdown, which wakes a thread blocked in a
read or in a TLS handshake. It goes on cutting whatever socket the attempt holds
until the attempt ends, so a connection made just as it fired is cut too.

DNS resolution is the one step it cannot cut: ``getaddrinfo`` is bounded by the
system resolver's own timeout.
"""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

# The watchdog cuts this long after the deadline, so that an attempt ended at
# the deadline by its own socket timeout is reported as that timeout.
CUT_AFTER = 0.2
# While an attempt outlives its cut, how often its socket is cut again.
RECUT_INTERVAL = 0.1

_local = threading.local()


def current() -> "Attempt | None":
    """The attempt the calling thread is making, if any."""
    return getattr(_local, "attempt", None)


class Attempt:
    """One delivery attempt: its deadline and the connection it is using."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self._connection = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds until the deadline (negative once past it)."""
        return self.deadline - time.monotonic()

    def watch(self, connection) -> None:
        """The attempt now uses *connection* (a urllib3 connection): cut its
        socket if the attempt has already expired."""
        with self._lock:
            self._connection = connection
            if self.expired:
                _cut(connection)

    def release(self) -> None:
        """The connection goes back to the pool: another attempt may use it,
        so never cut it for this one."""
        with self._lock:
            self._connection = None

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._connection is not None:
                _cut(self._connection)


def _cut(connection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    # socket.socket's own shutdown, even on a TLS socket: SSLSocket.shutdown
    # would tear the TLS state down under the thread reading from it. A closed
    # socket raises (its descriptor is -1), never touches a reused descriptor.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Watchdog:
    """Cuts the connections of attempts past their deadline; one per sender.

    Its thread starts with the first attempt and is a daemon: it never keeps the
    process alive.
    """

    def __init__(self):
        self._changed = threading.Condition()
        self._attempts: set[Attempt] = set()
        self._thread: threading.Thread | None = None
        self._closed = False

    @contextlib.contextmanager
    def attempt(self, seconds: float) -> Iterator[Attempt]:
        """Make an attempt of at most *seconds* in the calling thread."""
        attempt = Attempt(seconds)
        with self._changed:
            self._attempts.add(attempt)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="webhook-deadlines", daemon=True
                )
                self._thread.start()
            self._changed.notify()
        _local.attempt = attempt
        try:
            yield attempt
        finally:
            _local.attempt = None
            with self._changed:
                self._attempts.discard(attempt)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()
            thread = self._thread
        if thread is not None:
            thread.join(5)

    def _run(self) -> None:
        with self._changed:
            while not self._closed:
                now = time.monotonic()
                wait = None
                for attempt in self._attempts:
                    cut_at = attempt.deadline + CUT_AFTER
                    if cut_at <= now:
                        attempt.expire()
                        cut_at = now + RECUT_INTERVAL
                    wait = min(wait, cut_at - now) if wait is not None else cut_at - now
                self._changed.wait(wait)

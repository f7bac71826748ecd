"""The app's Redis connections, and the circuit that stops using them while
Redis is unwell.

A hung Redis (frozen, not down) answers nothing: every call waits out the
socket timeout. One such failure opens the circuit: from then on every Redis
call of this process (the rate limiter's, the captcha warning's clean-up, the
workers' wake-up, the read cache's invalidation) fails at once, and each caller
takes its own Redis-less path. A background thread probes Redis and closes the
circuit when it answers, so no request ever pays for the probing: a post pays
the timeout at most once while Redis is unwell.

The circuit is per process (per app, in fact): each gunicorn worker finds out
for itself, at the cost of one timeout.
"""

import logging
import os
import threading
import time
import weakref

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

log = logging.getLogger(__name__)

_FAILURES = (RedisConnectionError, RedisTimeoutError)


class RedisSkipped(RedisConnectionError):
    """Raised instead of calling Redis while the circuit is open."""


class RedisCircuit:
    """Open after a Redis call failed; closed again by a successful probe."""

    def __init__(self, url: str, timeout: float, probe_interval: float):
        self.url = url
        self.timeout = timeout
        self.probe_interval = probe_interval
        self.opened_at: float | None = None
        self.reason = ""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._recovery_callbacks = []

    @property
    def is_open(self) -> bool:
        if self.opened_at is None:
            return False
        if self._pid != os.getpid():
            # Opened in the parent before a fork: its prober did not come along.
            self._reset()
            return False
        return True

    def on_recovery(self, callback) -> None:
        """Call *callback()* (from the prober's thread) when Redis is back."""
        self._recovery_callbacks.append(callback)

    def trip(self, error: Exception) -> None:
        """A Redis call failed: skip Redis until a probe succeeds (logged once)."""
        with self._lock:
            if self.is_open:
                return
            self.opened_at = time.monotonic()
            self.reason = type(error).__name__
        log.warning(
            "Redis unreachable (%s): rate limits counted in this process's memory, "
            "and Redis calls skipped, until it answers again",
            self.reason,
        )
        # The thread holds the circuit weakly: an app dropped while Redis is down
        # (tests make many) does not keep a prober running forever.
        threading.Thread(
            target=_probe_until_back,
            args=(weakref.ref(self),),
            name="commentsvc-redis-probe",
            daemon=True,
        ).start()

    def probe(self) -> bool:
        """Ping Redis on a connection of the probe's own; True if it answered."""
        client = redis.Redis.from_url(
            self.url,
            socket_connect_timeout=self.timeout,
            socket_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def recovered(self) -> None:
        with self._lock:
            if self.opened_at is None:
                return
            down_for = time.monotonic() - self.opened_at
            self._reset()
        log.warning(
            "Redis answers again after %.1f s: rate limits counted in Redis again",
            down_for,
        )
        for callback in self._recovery_callbacks:
            callback()

    def _reset(self) -> None:
        self.opened_at = None
        self.reason = ""
        self._pid = os.getpid()

    def state(self) -> str | None:
        """None while closed, else why and for how long Redis has been skipped."""
        opened_at = self.opened_at
        if opened_at is None or not self.is_open:
            return None
        return (
            f"unreachable ({self.reason}); skipped for "
            f"{time.monotonic() - opened_at:.0f} s"
        )


def _probe_until_back(circuit_ref) -> None:
    while True:
        circuit = circuit_ref()
        if circuit is None or not circuit.is_open:
            return
        interval = circuit.probe_interval
        if circuit.probe():
            circuit.recovered()
            return
        del circuit
        time.sleep(interval)


class _CircuitConnection:
    """Mixed into redis-py's connection class: a failed call opens the circuit."""

    circuit: RedisCircuit

    def connect_check_health(self, *args, **kwargs):
        try:
            return super().connect_check_health(*args, **kwargs)
        except _FAILURES as error:
            self.circuit.trip(error)
            raise

    def send_packed_command(self, *args, **kwargs):
        try:
            return super().send_packed_command(*args, **kwargs)
        except _FAILURES as error:
            self.circuit.trip(error)
            raise

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except _FAILURES as error:
            self.circuit.trip(error)
            raise


class CircuitConnectionPool(redis.ConnectionPool):
    """A connection pool that hands out no connection while the circuit is open."""

    circuit: RedisCircuit

    def get_connection(self, *args, **kwargs):
        if self.circuit.is_open:
            raise RedisSkipped("Redis is skipped: it failed moments ago")
        return super().get_connection(*args, **kwargs)


def connection_pool(url: str, timeout: float, probe_interval: float):
    """A pool for *url* whose calls time out after *timeout* seconds, fail once
    (no retries: the callers have a Redis-less path) and trip a circuit.

    Raises:
        ValueError: *url* is not a Redis URL.
    """
    pool = CircuitConnectionPool.from_url(
        url,
        # redis-py has no timeouts by default: a hung Redis would hang requests.
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 0),
    )
    circuit = RedisCircuit(url, timeout, probe_interval)
    base = pool.connection_class  # plain, TLS or Unix socket, as the URL says
    pool.connection_class = type(
        f"Circuit{base.__name__}",
        (_CircuitConnection, base),
        {"circuit": circuit},
    )
    pool.circuit = circuit
    return pool


def get_circuit(app) -> RedisCircuit:
    """The app's Redis circuit."""
    return app.extensions["commentsvc.redis"].connection_pool.circuit

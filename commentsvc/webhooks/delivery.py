"""Sending one webhook over HTTP: guarded against SSRF, bounded in time.

Where a delivery may go is :mod:`.addresses`' decision, enforced on every
connection by :mod:`.connections`. Every attempt has a deadline on the whole of
it (``WEBHOOK_ATTEMPT_DEADLINE``): each socket operation waits at most
``WEBHOOK_TIMEOUT`` and never past the deadline, and :mod:`.deadline`'s watchdog
cuts an answer that trickles in byte by byte.

Redirects are never followed, nothing is retried here (the worker decides), no
proxy from the environment is used, and every call has a timeout.
"""

import email.utils
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)

from .addresses import (  # noqa: F401 - the package's names for the SSRF guard
    AddressPolicy,
    AllowList,
    DeliveryRefused,
    parse_allow_list,
    refusal_reason,
)
from .connections import GuardedPoolManager
from .deadline import Attempt, Watchdog

USER_AGENT = "commentsvc-webhooks/1"
# Characters of the receiver's answer kept in the delivery log.
EXCERPT_CHARS = 1000
# Answers up to this size are read whole so that the connection can be reused.
KEEPALIVE_BODY_LIMIT = 64 * 1024
# The least time a socket operation is given, so that a nearly spent deadline
# still ends in a timeout rather than in urllib3's refusal of a zero timeout.
MIN_WAIT = 0.001


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to; ``ok`` for a 2xx answer only."""

    status_code: int | None
    latency_ms: int
    excerpt: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, from a 429 or 503

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _describe(error: Exception) -> str:
    # Order matters: urllib3's NewConnectionError is a ConnectTimeoutError.
    if isinstance(error, NameResolutionError):
        return "could not resolve the host name"
    if isinstance(error, NewConnectionError):
        cause = error.__cause__
        return f"could not connect ({cause})" if cause else "could not connect"
    if isinstance(error, ConnectTimeoutError):
        return "timed out connecting"
    if isinstance(error, ReadTimeoutError):
        return "timed out waiting for the answer"
    if isinstance(error, SSLError):
        return f"TLS error: {error}"
    return f"{type(error).__name__}: {error}"


class Sender:
    """Sends signed webhook bodies; one per worker, safe to share across threads.

    *timeout* bounds connecting and each wait for the answer; *deadline* (by
    default the timeout) bounds the whole attempt.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        timeout: float,
        maxsize: int = 10,
        deadline: float | None = None,
    ):
        self.policy = policy
        self.timeout = timeout
        self.deadline = deadline or timeout
        self._watchdog = Watchdog()
        self._pool = GuardedPoolManager(
            policy,
            num_pools=100,
            maxsize=maxsize,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )

    def close(self) -> None:
        self._watchdog.close()
        self._pool.clear()

    def send(self, url: str, headers: dict[str, str], body: str) -> Outcome:
        """POST *body* to *url* within the deadline; never raises for network
        or HTTP failures (a refused URL or a timeout is an :class:`Outcome`)."""
        started = time.monotonic()
        with self._watchdog.attempt(self.deadline) as attempt:
            outcome = self._attempt(attempt, url, headers, body)
        return Outcome(
            outcome.status_code,
            round((time.monotonic() - started) * 1000),
            outcome.excerpt,
            outcome.error,
            outcome.retry_after,
        )

    def _timeouts(self, attempt: Attempt) -> urllib3.Timeout:
        left = max(attempt.remaining(), MIN_WAIT)
        wait = min(self.timeout, left)
        return urllib3.Timeout(connect=wait, read=wait, total=left)

    def _attempt(self, attempt: Attempt, url, headers, body) -> Outcome:
        """The attempt, with its latency left at 0 (``send`` measures it)."""
        try:
            self.policy.check_url(url)
            response = self._pool.request(
                "POST",
                url,
                body=body.encode(),
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "Accept-Encoding": "identity",
                    **headers,
                },
                redirect=False,
                retries=False,
                preload_content=False,
                timeout=self._timeouts(attempt),
            )
        except DeliveryRefused as error:
            return Outcome(None, 0, error=f"refused: {error}")
        except (HTTPError, OSError) as error:
            return Outcome(None, 0, error=self._failure(attempt, error))
        try:
            excerpt, error = self._read_excerpt(attempt, response), None
        except (HTTPError, OSError) as failure:
            # The status is the receiver's verdict, however its body ends.
            excerpt, error = None, self._failure(attempt, failure)
        status = response.status
        if 300 <= status < 400:
            location = response.headers.get("Location", "")[:300]
            error = f"redirect to {location or '(no Location)'} not followed"
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return Outcome(status, 0, excerpt, error, retry_after)

    def _failure(self, attempt: Attempt, error: Exception) -> str:
        # A cut connection fails as a reset or a short read: say what cut it.
        if attempt.expired and not isinstance(error, ReadTimeoutError):
            return f"timed out: no complete answer within {attempt.seconds:g} s"
        return _describe(error)[:500]

    def _read_excerpt(self, attempt: Attempt, response) -> str:
        length = response.length_remaining
        try:
            if length is not None and length <= KEEPALIVE_BODY_LIMIT:
                data = response.read()
            else:
                # Unknown or large: keep the start, drop the connection.
                data = response.read1(EXCERPT_CHARS * 4)
                response.close()
        except BaseException:
            response.close()
            raise
        finally:
            attempt.release()
            if attempt.expired:  # cut, or about to be: never reuse it
                response.close()
            response.release_conn()
        return data.decode("utf-8", "replace")[:EXCERPT_CHARS]

"""The webhook worker: claim due deliveries, send them, record every attempt.

A claim is one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`` that
stamps the rows with a lease (``locked_until``): on PostgreSQL concurrent workers
skip each other's rows, on SQLite the statement holds the single write lock, so
no two workers ever hold the same delivery. Sending happens outside any
transaction; the results are written in one transaction per batch, each only if
the lease is still ours. A worker killed mid-batch leaves its leases to run out,
after which another worker (or itself, restarted) sends those deliveries again
with the same ``webhook-id``: at least once, never lost.

Redis only wakes an idle worker up (a PUBLISH after each commit); the worker also
polls the database, so with Redis down deliveries are late, never lost.
"""

import json
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..metrics import WEBHOOK_ATTEMPTS
from ..models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    as_utc,
    utcnow,
)
from ..wakeup import Wakeup
from .delivery import AddressPolicy, Outcome, Sender
from .signing import signed_headers, signing_secrets
from .wake import channel

log = logging.getLogger(__name__)

# An endpoint failing this long without a single success is disabled.
DISABLE_AFTER = timedelta(days=5)
# The longest wait a Retry-After header can ask for.
MAX_RETRY_AFTER = 24 * 3600.0
# Jitter spreads retries of many failed deliveries: each delay is scaled by a
# random factor in this range.
JITTER = (0.8, 1.2)
# A claimed delivery is only sent if its lease outlives the send by this much.
LEASE_MARGIN = 1.0

_deliveries = WebhookDelivery.__table__
_endpoints = WebhookEndpoint.__table__
_attempts = WebhookAttempt.__table__


def parse_retry_delays(raw) -> tuple[float, ...]:
    """Parse ``WEBHOOK_RETRY_DELAYS``: seconds, comma-separated (or a list).

    Raises:
        ValueError: a delay is not a finite number of seconds, or none is given.
    """
    items = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)
    delays = []
    for item in items:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise ValueError(f"{item!r} is not a number of seconds") from None
        if not 0 <= value < float("inf"):
            raise ValueError(f"{item!r} is not a number of seconds")
        delays.append(value)
    if not delays:
        raise ValueError("give at least one retry delay")
    return tuple(delays)


@dataclass(frozen=True)
class Settings:
    timeout: float
    batch_size: int
    concurrency: int
    lease: timedelta
    poll_interval: float
    retry_delays: tuple[float, ...]

    @classmethod
    def from_config(cls, config, **overrides) -> "Settings":
        """Raises: ValueError: the lease is not longer than the timeout."""
        settings = cls(
            timeout=float(config["WEBHOOK_TIMEOUT"]),
            batch_size=int(config["WEBHOOK_BATCH_SIZE"]),
            concurrency=int(config["WEBHOOK_CONCURRENCY"]),
            lease=timedelta(seconds=float(config["WEBHOOK_LEASE_SECONDS"])),
            poll_interval=float(config["WEBHOOK_POLL_INTERVAL"]),
            retry_delays=parse_retry_delays(config["WEBHOOK_RETRY_DELAYS"]),
        )
        settings = replace(
            settings, **{k: v for k, v in overrides.items() if v is not None}
        )
        if settings.lease.total_seconds() <= settings.timeout + LEASE_MARGIN:
            raise ValueError(
                "WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_TIMEOUT + "
                f"{LEASE_MARGIN:g} s, or no delivery could ever be sent"
            )
        return settings


@dataclass(frozen=True)
class Job:
    """A claimed delivery, as plain data the sending threads can use."""

    delivery_id: int
    endpoint_id: int
    message_id: str
    url: str
    body: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    attempts: int  # made before this one
    lease: datetime


@dataclass
class Stats:
    """What a worker did: attempts made and how they ended."""

    attempts: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0  # claimed but not sent: the lease was about to run out

    def add(self, other: "Stats") -> None:
        for name in ("attempts", "succeeded", "retrying", "failed", "released"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def retry_delay(attempts: int, outcome: Outcome, delays: tuple[float, ...]):
    """Seconds until the next attempt after *attempts* failed ones, or None to
    give up. A 429 or 503 with ``Retry-After`` sets the delay itself."""
    if attempts > len(delays):
        return None
    if outcome.status_code in (429, 503) and outcome.retry_after is not None:
        return min(max(outcome.retry_after, 1.0), MAX_RETRY_AFTER)
    return delays[attempts - 1] * random.uniform(*JITTER)  # noqa: S311 - jitter


def claim(settings: Settings, now: datetime | None = None) -> list[Job]:
    """Lease up to ``batch_size`` due deliveries of enabled endpoints."""
    now = now or utcnow()
    lease = now + settings.lease
    due = (
        sa.select(_deliveries.c.id)
        .where(
            _deliveries.c.status == DeliveryStatus.PENDING.value,
            _deliveries.c.next_attempt_at <= now,
            sa.or_(
                _deliveries.c.locked_until.is_(None),
                _deliveries.c.locked_until <= now,
            ),
            _deliveries.c.endpoint_id.in_(
                sa.select(_endpoints.c.id).where(_endpoints.c.enabled.is_(True))
            ),
        )
        .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id)
        .limit(settings.batch_size)
        .with_for_update(skip_locked=True, of=_deliveries)
    )
    with db.engine.begin() as connection:
        ids = connection.scalars(
            sa.update(_deliveries)
            .where(_deliveries.c.id.in_(due))
            .values(locked_until=lease)
            .returning(_deliveries.c.id)
        ).all()
        if not ids:
            return []
        rows = connection.execute(
            sa.select(
                _deliveries.c.id,
                _deliveries.c.endpoint_id,
                _deliveries.c.message_id,
                _deliveries.c.attempts,
                _endpoints.c.url,
                _endpoints.c.secret,
                _endpoints.c.previous_secret,
                _endpoints.c.previous_secret_expires_at,
                WebhookEvent.__table__.c.payload,
            )
            .join(_endpoints, _endpoints.c.id == _deliveries.c.endpoint_id)
            .join(
                WebhookEvent.__table__,
                WebhookEvent.__table__.c.id == _deliveries.c.event_id,
            )
            .where(_deliveries.c.id.in_(ids))
            .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id)
        ).all()
    return [
        Job(
            delivery_id=row.id,
            endpoint_id=row.endpoint_id,
            message_id=row.message_id,
            url=row.url,
            body=json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False),
            secret=row.secret,
            previous_secret=row.previous_secret,
            previous_secret_expires_at=as_utc(row.previous_secret_expires_at),
            attempts=row.attempts,
            lease=lease,
        )
        for row in rows
    ]


@dataclass
class _Result:
    job: Job
    attempted_at: datetime
    outcome: Outcome | None  # None: not sent, the lease was too short


def _send(sender: Sender, settings: Settings, job: Job) -> _Result:
    now = utcnow()
    remaining = (job.lease - now).total_seconds()
    if remaining < settings.timeout + LEASE_MARGIN:
        return _Result(job, now, None)
    secrets_ = signing_secrets(
        job.secret, job.previous_secret, job.previous_secret_expires_at, now
    )
    headers = signed_headers(secrets_, job.message_id, job.body, now)
    return _Result(job, now, sender.send(job.url, headers, job.body))


def record(results: list[_Result], settings: Settings) -> Stats:
    """Write the attempts and their consequences in one transaction."""
    stats = Stats()
    now = utcnow()
    with db.engine.begin() as connection:
        attempts = [
            {
                "delivery_id": r.job.delivery_id,
                "attempted_at": r.attempted_at,
                "status_code": r.outcome.status_code,
                "latency_ms": r.outcome.latency_ms,
                "error": r.outcome.error,
                "response_excerpt": r.outcome.excerpt,
            }
            for r in results
            if r.outcome is not None
        ]
        if attempts:
            connection.execute(sa.insert(_attempts), attempts)
        released = [r for r in results if r.outcome is None]
        if released:
            connection.execute(
                sa.update(_deliveries)
                .where(
                    _deliveries.c.id == sa.bindparam("b_id"),
                    _deliveries.c.locked_until == sa.bindparam("b_lease"),
                )
                .values(locked_until=None),
                [{"b_id": r.job.delivery_id, "b_lease": r.job.lease} for r in released],
            )
            stats.released += len(released)
        succeeded = [r for r in results if r.outcome is not None and r.outcome.ok]
        if succeeded:
            _record_successes(connection, succeeded)
            stats.succeeded += len(succeeded)
        for result in results:
            if result.outcome is not None and not result.outcome.ok:
                if _record_failure(connection, result, settings, now):
                    stats.retrying += 1
                else:
                    stats.failed += 1
        stats.attempts += len(attempts)
    WEBHOOK_ATTEMPTS.labels("succeeded").inc(stats.succeeded)
    WEBHOOK_ATTEMPTS.labels("retrying").inc(stats.retrying)
    WEBHOOK_ATTEMPTS.labels("failed").inc(stats.failed)
    return stats


def _ours(result: _Result):
    """The delivery, if this worker's lease on it still holds."""
    return sa.and_(
        _deliveries.c.id == result.job.delivery_id,
        _deliveries.c.locked_until == result.job.lease,
        _deliveries.c.status == DeliveryStatus.PENDING.value,
    )


def _record_successes(connection, results: list[_Result]) -> None:
    connection.execute(
        sa.update(_deliveries)
        .where(
            _deliveries.c.id == sa.bindparam("b_id"),
            _deliveries.c.locked_until == sa.bindparam("b_lease"),
            _deliveries.c.status == DeliveryStatus.PENDING.value,
        )
        .values(
            status=DeliveryStatus.SUCCEEDED.value,
            attempts=_deliveries.c.attempts + 1,
            delivered_at=sa.bindparam("b_at"),
            last_status_code=sa.bindparam("b_code"),
            last_error=None,
            locked_until=None,
        ),
        [
            {
                "b_id": r.job.delivery_id,
                "b_lease": r.job.lease,
                "b_at": r.attempted_at,
                "b_code": r.outcome.status_code,
            }
            for r in results
        ],
    )
    connection.execute(
        sa.update(_endpoints)
        .where(
            _endpoints.c.id.in_({r.job.endpoint_id for r in results}),
            _endpoints.c.failing_since.is_not(None),
        )
        .values(failing_since=None)
    )


def _record_failure(connection, result: _Result, settings: Settings, now) -> bool:
    """Record a failed attempt; True if the delivery will be retried."""
    job, outcome = result.job, result.outcome
    error = outcome.error or f"HTTP {outcome.status_code}"
    attempts = job.attempts + 1
    log.info(
        "webhook delivery %s to %s failed (attempt %s): %s",
        job.delivery_id,
        job.url,
        attempts,
        error,
    )
    if outcome.status_code == 410:
        disable_endpoint(
            connection,
            job.endpoint_id,
            f"The endpoint answered 410 Gone on {_day(now)}.",
            now,
        )
    else:
        connection.execute(
            sa.update(_endpoints)
            .where(
                _endpoints.c.id == job.endpoint_id,
                _endpoints.c.failing_since.is_(None),
            )
            .values(failing_since=result.attempted_at)
        )
        since = as_utc(
            connection.scalar(
                sa.select(_endpoints.c.failing_since).where(
                    _endpoints.c.id == job.endpoint_id
                )
            )
        )
        if since is not None and now - since >= DISABLE_AFTER:
            disable_endpoint(
                connection,
                job.endpoint_id,
                f"Every delivery failed from {_day(since)} to {_day(now)} "
                f"({DISABLE_AFTER.days} days without a success).",
                now,
            )
    enabled = connection.scalar(
        sa.select(_endpoints.c.enabled).where(_endpoints.c.id == job.endpoint_id)
    )
    delay = retry_delay(attempts, outcome, settings.retry_delays) if enabled else None
    values = {
        "attempts": _deliveries.c.attempts + 1,
        "last_status_code": outcome.status_code,
        "last_error": error[:500],
        "locked_until": None,
    }
    if delay is None:
        values["status"] = DeliveryStatus.FAILED.value
    else:
        values["next_attempt_at"] = result.attempted_at + timedelta(seconds=delay)
    connection.execute(sa.update(_deliveries).where(_ours(result)).values(**values))
    return delay is not None


def _day(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def disable_endpoint(connection, endpoint_id: int, reason: str, now=None) -> bool:
    """Disable an endpoint and fail its pending deliveries (those in flight
    elsewhere finish and are recorded by their worker). True if it was enabled."""
    now = now or utcnow()
    changed = connection.execute(
        sa.update(_endpoints)
        .where(_endpoints.c.id == endpoint_id, _endpoints.c.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason[:500])
    ).rowcount
    connection.execute(
        sa.update(_deliveries)
        .where(
            _deliveries.c.endpoint_id == endpoint_id,
            _deliveries.c.status == DeliveryStatus.PENDING.value,
            sa.or_(
                _deliveries.c.locked_until.is_(None),
                _deliveries.c.locked_until <= now,
            ),
        )
        .values(
            status=DeliveryStatus.FAILED.value,
            last_error="The endpoint is disabled.",
            locked_until=None,
        )
    )
    if changed:
        log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)
    return bool(changed)


def next_due(now: datetime | None = None) -> datetime | None:
    """When the earliest pending delivery of an enabled endpoint becomes due."""
    due_at = sa.case(
        (
            sa.and_(
                _deliveries.c.locked_until.is_not(None),
                _deliveries.c.locked_until > _deliveries.c.next_attempt_at,
            ),
            _deliveries.c.locked_until,
        ),
        else_=_deliveries.c.next_attempt_at,
    )
    with db.engine.connect() as connection:
        value = connection.scalar(
            sa.select(sa.func.min(due_at)).where(
                _deliveries.c.status == DeliveryStatus.PENDING.value,
                _deliveries.c.endpoint_id.in_(
                    sa.select(_endpoints.c.id).where(_endpoints.c.enabled.is_(True))
                ),
            )
        )
    if isinstance(value, str):  # SQLite hands back the text of an expression
        value = datetime.fromisoformat(value)
    return as_utc(value)


@dataclass
class Worker:
    """Claims, sends and records in batches until stopped. Needs an app context."""

    settings: Settings
    policy: AddressPolicy
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.sender = Sender(
            self.policy, self.settings.timeout, self.settings.concurrency
        )
        self.pool = ThreadPoolExecutor(
            self.settings.concurrency, thread_name_prefix="webhook-send"
        )
        self.wakeup = Wakeup(self.stop, channel(), "webhook worker")

    @classmethod
    def from_app(cls, app, **overrides) -> "Worker":
        """Raises: ValueError: the WEBHOOK_* settings cannot work together."""
        return cls(
            Settings.from_config(app.config, **overrides),
            AddressPolicy.from_config(app.config),
        )

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.sender.close()
        self.wakeup.close()

    def run_batch(self) -> Stats:
        """Claim one batch, send it and record the results."""
        jobs = claim(self.settings)
        if not jobs:
            return Stats()
        results = list(
            self.pool.map(lambda job: _send(self.sender, self.settings, job), jobs)
        )
        return record(results, self.settings)

    def run_until_idle(self) -> Stats:
        """Work until nothing is due (``webhooks worker --once``)."""
        total = Stats()
        while not self.stop.is_set():
            stats = self.run_batch()
            total.add(stats)
            if not (stats.attempts or stats.released):
                break
        return total

    def run(self) -> Stats:
        """Work until :attr:`stop` is set, waking up on Redis or by polling."""
        total = Stats()
        while not self.stop.is_set():
            try:
                total.add(self.run_until_idle())
                wait = self._idle_wait()
            except sa.exc.OperationalError as error:
                log.warning("webhook worker: database unavailable: %s", error)
                wait = self.settings.poll_interval
            if wait > 0:
                self.wakeup.wait(wait)
        return total

    def _idle_wait(self) -> float:
        due = next_due()
        wait = self.settings.poll_interval
        if due is not None:
            wait = min(wait, (due - utcnow()).total_seconds())
        # Something due but not claimable (locked by a concurrent claim): do
        # not spin on it.
        return max(wait, 0.05)

"""Recording what attempts came to: the attempt rows, then success, a retry
with backoff, giving up, or disabling an endpoint that keeps failing.

Each result is written only if the worker's lease on the delivery still holds:
a worker that lost its lease (it was too slow, or killed) records nothing, and
whoever holds the delivery now sends it again.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..metrics import WEBHOOK_ATTEMPTS
from ..models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    as_utc,
    utcnow,
)
from .claims import Job
from .delivery import Outcome
from .settings import Settings

log = logging.getLogger(__name__)

# An endpoint failing this long without a single success is disabled.
DISABLE_AFTER = timedelta(days=5)
# The longest wait a Retry-After header can ask for.
MAX_RETRY_AFTER = 24 * 3600.0
# Jitter spreads retries of many failed deliveries: each delay is scaled by a
# random factor in this range.
JITTER = (0.8, 1.2)

_deliveries = WebhookDelivery.__table__
_endpoints = WebhookEndpoint.__table__
_attempts = WebhookAttempt.__table__


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


@dataclass
class Result:
    """An attempt's result, for :func:`record`."""

    job: Job
    attempted_at: datetime
    outcome: Outcome | None  # None: not sent, the lease was too short


def record(results: list[Result], settings: Settings) -> Stats:
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


def _ours(result: Result):
    """The delivery, if this worker's lease on it still holds."""
    return sa.and_(
        _deliveries.c.id == result.job.delivery_id,
        _deliveries.c.locked_until == result.job.lease,
        _deliveries.c.status == DeliveryStatus.PENDING.value,
    )


def _record_successes(connection, results: list[Result]) -> None:
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


def _record_failure(connection, result: Result, settings: Settings, now) -> bool:
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

"""Claiming due deliveries for a worker, and when the next one falls due.

A claim first reads a bounded number of the earliest due deliveries and picks
from them no more of one endpoint than the worker has room for (half a batch),
leaving out endpoints it is full of: a slow endpoint's backlog never fills a
worker's hands, nor hides the others' deliveries. Then one ``UPDATE … WHERE id
IN (SELECT … FOR UPDATE SKIP LOCKED)`` over the picked ids, which re-checks that
each is still claimable, stamps them with a lease (``locked_until``): on
PostgreSQL concurrent workers skip each other's rows, on SQLite the statement
holds the single write lock, so no two workers ever hold the same delivery.

Every step reads a bounded number of rows by index, never the whole backlog: a
claim must stay far shorter than the lease it takes (see :func:`claim`).
"""

import collections
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    as_utc,
    utcnow,
)
from .settings import Settings

_deliveries = WebhookDelivery.__table__
_endpoints = WebhookEndpoint.__table__

# A claim reads this many times as many of the earliest due deliveries as it may
# take: enough to fill it although the earliest are mostly one endpoint's.
CANDIDATES_PER_CLAIM = 4


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


def _claimable(now: datetime) -> list:
    """Due, not leased, of an enabled endpoint."""
    return [
        _deliveries.c.status == DeliveryStatus.PENDING.value,
        _deliveries.c.next_attempt_at <= now,
        sa.or_(
            _deliveries.c.locked_until.is_(None),
            _deliveries.c.locked_until <= now,
        ),
        _deliveries.c.endpoint_id.in_(
            sa.select(_endpoints.c.id).where(_endpoints.c.enabled.is_(True))
        ),
    ]


def claim(
    settings: Settings,
    limit: int | None = None,
    held: Mapping[int, int] | None = None,
    now: datetime | None = None,
) -> list[Job]:
    """Lease up to *limit* (by default ``batch_size``) due deliveries of enabled
    endpoints, the earliest first, no more of one endpoint than
    ``settings.held_per_endpoint`` less those the worker already holds (*held*:
    endpoint id to their number).

    Raises:
        sqlalchemy.exc.OperationalError: the database is unavailable.
    """
    limit = limit or settings.batch_size
    holding = collections.Counter(held or {})
    jobs: list[Job] = []
    # Deliveries picked from a read can be leased by another worker before this
    # one locks them (its lease was not yet committed when we read): read again
    # rather than come back empty-handed while others wait.
    for _ in range(_ATTEMPTS):
        got, lost = _claim_once(settings, limit - len(jobs), holding, now)
        jobs += got
        holding.update(job.endpoint_id for job in got)
        if not lost or len(jobs) >= limit:
            break
    return jobs


# Reads a claim may make when other workers take what it picked.
_ATTEMPTS = 3


def _claim_once(
    settings: Settings, limit: int, held: Mapping[int, int], now: datetime | None
) -> tuple[list[Job], bool]:
    """One read and one lease: the jobs leased, and whether some deliveries
    picked were leased by another worker first."""
    started = now or utcnow()
    most = settings.held_per_endpoint
    room = {endpoint: most - n for endpoint, n in held.items()}
    full = [endpoint for endpoint, n in room.items() if n <= 0]
    # Ranking the whole backlog per endpoint in SQL (a window function) made a
    # claim cost grow with the backlog, quadratically once the backlog outgrew
    # the planner's statistics: seconds, so the leases it took ran short before
    # a send could start, and the worker gave back everything it claimed. The
    # earliest due deliveries are read instead, locked as they are read
    # (PostgreSQL; rows another worker is claiming are skipped, not waited
    # for), and the per-endpoint share is taken from them here.
    with db.engine.begin() as connection:
        candidates = connection.execute(
            sa.select(_deliveries.c.id, _deliveries.c.endpoint_id)
            .where(*_claimable(started), _deliveries.c.endpoint_id.not_in(full))
            .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id)
            .limit(limit * CANDIDATES_PER_CLAIM)
            .with_for_update(skip_locked=True, of=_deliveries)
        ).all()
        picked = []
        for delivery_id, endpoint_id in candidates:
            if len(picked) == limit:
                break
            if room.setdefault(endpoint_id, most) > 0:
                room[endpoint_id] -= 1
                picked.append(delivery_id)
        if not picked:
            return [], False
        now = now or utcnow()  # the lease runs from after the read
        lease = now + settings.lease
        # Claimable is checked again in the update itself: SQLite has no row
        # locks, and another worker may have leased a row since the read.
        ids = connection.scalars(
            sa.update(_deliveries)
            .where(_deliveries.c.id.in_(picked), *_claimable(now))
            .values(locked_until=lease)
            .returning(_deliveries.c.id)
        ).all()
        if not ids:
            return [], True
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
    jobs = [
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
    return jobs, len(ids) < len(picked)


def next_due(
    now: datetime | None = None, exclude: Collection[int] = ()
) -> datetime | None:
    """When the earliest pending delivery of an enabled endpoint (not one of
    *exclude*, those the worker has no room for) becomes due."""
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
                    sa.select(_endpoints.c.id).where(
                        _endpoints.c.enabled.is_(True),
                        _endpoints.c.id.not_in(exclude),
                    )
                ),
            )
        )
    if isinstance(value, str):  # SQLite hands back the text of an expression
        value = datetime.fromisoformat(value)
    return as_utc(value)

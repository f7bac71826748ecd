"""Webhook endpoints, the service the CLI and the admin pages share: register,
rotate the secret, disable and enable, ping, redeliver, and the delivery log.

Functions here own their transactions, never touch ``request``, and wake the
workers after a commit that queued something.
"""

import socket
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from .. import audit
from ..comments.errors import SiteNotFound, ValidationFailed
from ..extensions import db
from ..models import (
    DeliveryStatus,
    Site,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    as_utc,
    utcnow,
)
from . import results
from .addresses import AddressPolicy, DeliveryRefused
from .outbox import EVENT_TYPES, PING, record_event
from .signing import ROTATION_OVERLAP, new_secret
from .wake import wake_workers

# What an endpoint can subscribe to; a ping goes to every endpoint it is sent to.
SUBSCRIBABLE_EVENTS = tuple(t for t in EVENT_TYPES if t != PING)
MAX_URL_LENGTH = 2048


class EndpointNotFound(LookupError):
    """No webhook endpoint has the given id."""


class DeliveryNotFound(LookupError):
    """No webhook delivery has the given id."""


def normalize_events(events) -> list[str]:
    """The event types to subscribe to, deduplicated; empty means all.

    Raises:
        ValidationFailed: an unknown event type.
    """
    wanted = []
    for item in events or ():
        for name in str(item).replace(",", " ").split():
            if name not in SUBSCRIBABLE_EVENTS:
                raise ValidationFailed(
                    {
                        "events": f"Unknown event {name!r}; choose from "
                        + ", ".join(SUBSCRIBABLE_EVENTS)
                        + "."
                    }
                )
            if name not in wanted:
                wanted.append(name)
    return wanted


def check_url(url: str) -> str:
    """Return *url* if deliveries may be sent to it now.

    Raises:
        ValidationFailed: not http(s), malformed, too long, not resolving, or
            its host is or resolves to a refused (private, loopback...) address.
    """
    url = (url or "").strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(
            {"url": f"Give an http(s) URL of at most {MAX_URL_LENGTH} characters."}
        )
    policy = AddressPolicy.from_config(current_app.config)
    try:
        target = policy.check_url(url)
        if target.address is None:
            policy.resolve(target.host, target.port)
    except DeliveryRefused as error:
        raise ValidationFailed({"url": f"Refused: {error}."}) from None
    except (socket.gaierror, UnicodeError):
        raise ValidationFailed({"url": "The host name does not resolve."}) from None
    return url


def add_endpoint(
    site_slug: str, url: str, events=(), actor=None
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for a site; returns it and its secret (show it once).
    *actor* is the admin doing it (None: the command line).

    Raises:
        SiteNotFound: no such site.
        ValidationFailed: a refused URL or an unknown event type.
    """
    site = db.session.scalar(sa.select(Site).where(Site.slug == site_slug))
    if site is None:
        raise SiteNotFound(site_slug)
    events = normalize_events(events)
    endpoint = WebhookEndpoint(
        site=site,
        url=check_url(url),
        events=events,
        secret=new_secret(),
        enabled=True,
    )
    db.session.add(endpoint)
    added = {"url": endpoint.url, "events": events, "secret": audit.CHANGED}
    audit.record("webhook.endpoint_added", endpoint, added, actor, site)
    _commit()
    return endpoint, endpoint.secret


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    """Raises: EndpointNotFound."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise EndpointNotFound(endpoint_id)
    return endpoint


def list_endpoints() -> list[WebhookEndpoint]:
    """Every endpoint, by site and then age, with its site loaded."""
    return list(
        db.session.scalars(
            sa.select(WebhookEndpoint)
            .join(Site)
            .options(selectinload(WebhookEndpoint.site))
            .order_by(Site.slug, WebhookEndpoint.id)
        )
    )


def pending_counts() -> dict[int, int]:
    """Pending deliveries per endpoint id."""
    return dict(
        db.session.execute(
            sa.select(WebhookDelivery.endpoint_id, sa.func.count())
            .where(WebhookDelivery.status == DeliveryStatus.PENDING)
            .group_by(WebhookDelivery.endpoint_id)
        ).all()
    )


def rotate_secret(endpoint_id: int, now: datetime | None = None, actor=None) -> str:
    """Give the endpoint a new secret; the old one keeps signing beside it for
    24 hours (a second rotation within them drops the oldest). Returns the new
    secret (show it once).

    Raises:
        EndpointNotFound.
    """
    endpoint = get_endpoint(endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = (now or utcnow()) + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    changed = {"secret": audit.CHANGED}
    audit.record("webhook.secret_rotated", endpoint, changed, actor, endpoint.site_id)
    _commit()
    return endpoint.secret


def disable(
    endpoint_id: int, reason: str = "Disabled by an admin.", actor=None
) -> WebhookEndpoint:
    """Stop sending to the endpoint; its pending deliveries fail. *actor* is the
    admin doing it (None: the command line).

    Raises:
        EndpointNotFound.
    """
    endpoint = get_endpoint(endpoint_id)
    if endpoint.enabled:
        changed = {"enabled": [True, False], "reason": reason}
        audit.record(
            "webhook.endpoint_disabled", endpoint, changed, actor, endpoint.site_id
        )
    results.disable_endpoint(db.session.connection(), endpoint.id, reason)
    _commit()
    db.session.refresh(endpoint)
    return endpoint


def enable(endpoint_id: int, actor=None) -> WebhookEndpoint:
    """Send to the endpoint again (failed deliveries can be redelivered).
    *actor* is the admin doing it (None: the command line).

    Raises:
        EndpointNotFound.
    """
    endpoint = get_endpoint(endpoint_id)
    if not endpoint.enabled:
        changed = {"enabled": [False, True]}
        audit.record(
            "webhook.endpoint_enabled", endpoint, changed, actor, endpoint.site_id
        )
    endpoint.enabled = True
    endpoint.disabled_reason = None
    endpoint.failing_since = None
    _commit()
    return endpoint


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise ValidationFailed(
            {"endpoint": "The endpoint is disabled: enable it first."}
        )


def send_ping(endpoint_id: int) -> WebhookDelivery:
    """Queue a ``ping`` event to the endpoint and wake the workers.

    Raises:
        EndpointNotFound.
        ValidationFailed: the endpoint is disabled.
    """
    endpoint = get_endpoint(endpoint_id)
    _require_enabled(endpoint)
    event = record_event(
        endpoint.site_id,
        PING,
        {"site": endpoint.site.slug, "endpoint_id": endpoint.id},
        endpoints=[endpoint],
    )
    _commit()
    wake_workers()
    return db.session.scalar(
        sa.select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)
    )


def redeliver(delivery_id: int) -> WebhookDelivery:
    """Send a delivery again now, with the same ``webhook-id`` and a fresh retry
    schedule; its earlier attempts stay in the log.

    Raises:
        DeliveryNotFound.
        ValidationFailed: the endpoint is disabled, or a worker is sending the
            delivery right now.
    """
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(delivery_id)
    _require_enabled(delivery.endpoint)
    now = utcnow()
    # Conditional: a delivery a worker holds is left alone (no double send).
    changed = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            sa.or_(
                WebhookDelivery.locked_until.is_(None),
                WebhookDelivery.locked_until <= now,
            ),
        )
        .values(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            locked_until=None,
            delivered_at=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise ValidationFailed(
            {"delivery": "A worker is sending this delivery right now."}
        )
    _commit()
    wake_workers()
    db.session.refresh(delivery)
    return delivery


@dataclass
class LogEntry:
    """One delivery in an endpoint's log, with its attempts (newest first)."""

    delivery: WebhookDelivery
    event_type: str
    attempts: list[WebhookAttempt]

    @property
    def latest(self) -> WebhookAttempt | None:
        return self.attempts[0] if self.attempts else None

    @property
    def next_attempt_at(self) -> datetime | None:
        return as_utc(self.delivery.next_attempt_at)


def delivery_log(endpoint_id: int, limit: int = 50) -> list[LogEntry]:
    """The endpoint's latest deliveries with all their attempts.

    Raises:
        EndpointNotFound.
    """
    get_endpoint(endpoint_id)
    deliveries = list(
        db.session.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .options(selectinload(WebhookDelivery.event))
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
    attempts: dict[int, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        for attempt in db.session.scalars(
            sa.select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc())
        ):
            attempts[attempt.delivery_id].append(attempt)
    return [LogEntry(d, d.event.type, attempts[d.id]) for d in deliveries]


def _commit() -> None:
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise

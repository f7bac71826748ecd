"""Webhook endpoints, the events of the outbox, their deliveries and attempts."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import DeliveryStatus, JSONType, _enum, utcnow
from .content import Site


class WebhookEndpoint(db.Model):
    """Where a site owner hears about comments; signed per Standard Webhooks."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(sa.String(2048))
    # Event types to send; empty means all.
    events: Mapped[list] = mapped_column(JSONType, default=list)
    # whsec_...; write-only after it is shown once.
    secret: Mapped[str] = mapped_column(sa.String(200))
    # The secret before a rotation keeps signing beside the new one until then.
    previous_secret: Mapped[str | None] = mapped_column(sa.String(200))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(
        sa.DateTime(timezone=True)
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # When its deliveries started failing without a success since.
    failing_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )

    site: Mapped[Site] = relationship()


class WebhookEvent(db.Model):
    """The outbox: one row per event, written in the transaction of the change."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        sa.Index("ix_webhook_events_site_created", "site_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )


class WebhookDelivery(db.Model):
    """One event to one endpoint; retried with the same ``webhook-id``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The worker's claim: due pending deliveries, oldest first.
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    # The webhook-id header: the same on every attempt, so receivers dedupe.
    message_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    # While a worker holds it: another worker may take it after this time.
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[WebhookEvent] = relationship()


class WebhookAttempt(db.Model):
    """The delivery log: one row per HTTP attempt."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    status_code: Mapped[int | None] = mapped_column()
    latency_ms: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(500))
    response_excerpt: Mapped[str | None] = mapped_column(sa.String(1000))

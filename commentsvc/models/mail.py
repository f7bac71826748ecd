"""Mail: the outbox of messages to send, moderators' mail settings, and the
readers who asked to hear about replies (their addresses and threads)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import DeliveryStatus, JSONType, _enum, utcnow


class MailMessage(db.Model):
    """The mail outbox: one row per message, written in the transaction of what
    caused it; the worker renders and sends it (rendered late, so that a comment
    already decided or an address unsubscribed sends nothing)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        # The worker's claim: due pending messages, earliest first.
        sa.Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # moderator_comment, moderator_digest, confirm, reply, approved
    kind: Mapped[str] = mapped_column(sa.String(32))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id", ondelete="CASCADE")
    )
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mail_recipients.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE")
    )
    # What else a message needs (a digest's time range).
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    # The same on every retry, so that a receiving server can drop a duplicate.
    message_id: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "mail_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    # A worker's claim: nobody else sends it before then.
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ModeratorMailSetting(db.Model):
    """What mail a moderator gets about one site; without a row: each pending
    comment and reported comments (when the moderator has an address)."""

    __tablename__ = "moderator_mail_settings"

    moderator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("moderators.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    # none, each, hourly, daily
    mode: Mapped[str] = mapped_column(sa.String(16), default="each")
    # A mail when readers' reports of a comment reach the site's threshold.
    reports: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # The end of the range the last digest covered.
    last_digest_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class MailRecipient(db.Model):
    """A reader's address on a site: confirmed (double opt-in) before anything
    but the confirmation is sent to it; unsubscribed from the whole site."""

    __tablename__ = "mail_recipients"
    __table_args__ = (sa.UniqueConstraint("site_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254))
    confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # When the last confirmation mail was queued: at most one a day.
    confirm_sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )


class MailSubscription(db.Model):
    """A reader's "notify me of replies" on one thread."""

    __tablename__ = "mail_subscriptions"
    __table_args__ = (sa.UniqueConstraint("recipient_id", "thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mail_recipients.id", ondelete="CASCADE")
    )
    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("threads.id", ondelete="CASCADE"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )


class MailboxCount(db.Model):
    """How many mails of a kind (``confirm``, ``notice``) a form post sent one
    mailbox on a day (UTC), across sites: ``Ann+1@X`` and ``ann+2@x`` are one
    mailbox. The mailbox is a keyed hash, never the address; rows of past days
    are deleted by ``mail purge-unconfirmed``."""

    __tablename__ = "mail_mailbox_counts"

    mailbox: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

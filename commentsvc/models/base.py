"""What the models share: column types, times as they leave the server, and the
enums stored as strings."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Return *value* as an aware UTC datetime (SQLite hands back naive ones)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso8601(value: datetime | None) -> str | None:
    """``2026-11-27T01:02:03Z``: how times leave the server (API, webhooks)."""
    value = as_utc(value)
    if value is None:
        return None
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


# The learning filter's default thresholds (docs/spam.md says how they were
# chosen).
SPAM_THRESHOLD = 0.6
SPAM_HOLD_THRESHOLD = 0.35
# A site's default "likely to be rejected" probability (docs/spam.md).
REJECT_THRESHOLD = 0.7


class CommentStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"
    DELETED = "deleted"


class BanKind(enum.StrEnum):
    EMAIL = "email"
    IP = "ip"
    NETWORK = "network"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up: endpoint disabled or out of attempts


class Role(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"


class CaptchaProvider(enum.StrEnum):
    NONE = "none"
    DEV = "dev"
    RECAPTCHA_V2 = "recaptcha_v2"
    RECAPTCHA_V3 = "recaptcha_v3"
    HCAPTCHA = "hcaptcha"
    TURNSTILE = "turnstile"


class ModerationPolicy(enum.StrEnum):
    HOLD_ALL = "hold_all"
    TRUST_APPROVED_AUTHORS = "trust_approved_authors"


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )

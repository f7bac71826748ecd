"""Standard Webhooks signatures: ``whsec_`` secrets and the three headers.

A receiver verifies with any Standard Webhooks library. After a rotation the
previous secret keeps signing beside the new one (two ``v1,`` signatures in one
header) until it expires, so receivers can switch secrets without losing events.
"""

import base64
import secrets
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from ..models import as_utc

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32
# How long a rotated-out secret keeps signing beside the new one.
ROTATION_OVERLAP = timedelta(hours=24)


def new_secret() -> str:
    """Return a fresh ``whsec_`` secret (32 random bytes, base64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_secrets(
    secret: str,
    previous_secret: str | None,
    previous_expires_at: datetime | None,
    now: datetime,
) -> list[str]:
    """The secrets that sign at *now*: the current one, and the previous one
    while its overlap lasts."""
    found = [secret]
    expires = as_utc(previous_expires_at)
    if previous_secret and expires is not None and expires > now:
        found.append(previous_secret)
    return found


def signature(secrets_: list[str], message_id: str, at: datetime, body: str) -> str:
    """The ``webhook-signature`` header: one ``v1,`` signature per secret."""
    # standardwebhooks signs a non-UTC aware datetime wrongly: hand it UTC only.
    at = at.astimezone(UTC)
    return " ".join(Webhook(s).sign(message_id, at, body) for s in secrets_)


def signed_headers(
    secrets_: list[str], message_id: str, body: str, now: datetime | None = None
) -> dict[str, str]:
    """The Standard Webhooks headers for *body*, signed at *now* (default: now).

    The timestamp is the time of this attempt, so a retry is never refused by a
    receiver's replay window; the id is the delivery's, the same on every retry.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(secrets_, message_id, now, body),
    }

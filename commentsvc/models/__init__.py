"""SQLAlchemy models: sites, threads, comments, moderators and the decisions
(content.py), authors' edits awaiting a moderator (revisions.py), the rest of
the audit trail (audit.py), webhooks (webhooks.py), near-duplicate
signatures (neardup.py), reject models (rejections.py), readers who sign
in (accounts.py),
and what they share (base.py).

The same models run on SQLite and PostgreSQL; migrations live in ``migrations/``.
"""

from .accounts import Account, ReaderSession, SignInLink, SiteSignIn
from .audit import AuditEntry
from .base import (
    REJECT_THRESHOLD,
    SPAM_HOLD_THRESHOLD,
    SPAM_THRESHOLD,
    BanKind,
    CaptchaProvider,
    CommentStatus,
    DeliveryStatus,
    JSONType,
    ModerationPolicy,
    Role,
    as_utc,
    iso8601,
    utcnow,
)
from .content import (
    Ban,
    Comment,
    CommentReport,
    ModerationEvent,
    Moderator,
    Site,
    SpamModel,
    Thread,
    moderator_sites,
)
from .mail import (
    MailboxCount,
    MailMessage,
    MailRecipient,
    MailSubscription,
    ModeratorMailSetting,
)
from .neardup import CommentBand
from .rejections import RejectModel
from .revisions import CommentRevision, RevisionStatus
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Account",
    "ReaderSession",
    "SignInLink",
    "SiteSignIn",
    "AuditEntry",
    "REJECT_THRESHOLD",
    "SPAM_HOLD_THRESHOLD",
    "SPAM_THRESHOLD",
    "Ban",
    "BanKind",
    "CaptchaProvider",
    "Comment",
    "CommentBand",
    "CommentReport",
    "CommentRevision",
    "CommentStatus",
    "DeliveryStatus",
    "JSONType",
    "MailMessage",
    "MailRecipient",
    "MailSubscription",
    "MailboxCount",
    "ModerationEvent",
    "ModerationPolicy",
    "ModeratorMailSetting",
    "Moderator",
    "RejectModel",
    "RevisionStatus",
    "Role",
    "Site",
    "SpamModel",
    "Thread",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "as_utc",
    "iso8601",
    "moderator_sites",
    "utcnow",
]

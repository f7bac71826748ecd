"""The one door to the audit trail of changes other than decisions.

The service functions that change a ban, a site, an account (a moderator's or
a reader's), a webhook endpoint or a moderator's mail call :func:`record`
before they commit, so the entry is in
the same transaction as the change: both happen or neither. Nothing is committed
here. The actor is the moderator acting in the UI, or None for the command line
(and the system). Secrets and password hashes never reach a row: their fields
are written as "changed".
"""

from enum import Enum

from .extensions import db
from .models import Account, AuditEntry, Ban, Moderator, Site, WebhookEndpoint

# Every kind of entry, by the group the audit page filters on.
GROUPS = {
    "bans": ("ban.added", "ban.lifted"),
    "settings": (
        "site.created",
        "site.settings",
        "site.origins",
        "site.sign_in",
        "site.sso_secret_created",
        "site.sso_secret_rotated",
    ),
    "accounts": (
        "moderator.created",
        "moderator.sites",
        "moderator.deactivated",
        "moderator.reactivated",
        "moderator.password_reset",
        "moderator.password_changed",
    ),
    "webhooks": (
        "webhook.endpoint_added",
        "webhook.endpoint_disabled",
        "webhook.endpoint_enabled",
        "webhook.secret_rotated",
    ),
    "mail": ("mail.settings",),
    # Readers' accounts (commentsvc.accounts.moderation).
    "readers": (
        "reader.suspended",
        "reader.suspension_lifted",
        "reader.banned",
        "reader.unbanned",
        "reader.staff",
    ),
}
KINDS = frozenset(kind for kinds in GROUPS.values() for kind in kinds)
# Fields whose values are never written, only that they changed.
SECRET_FIELDS = frozenset(
    {
        "captcha_secret",
        "akismet_key",
        "password",
        "password_hash",
        "secret",
        "previous_secret",
        "sso_secret",
        "oidc_client_secret",
    }
)
CHANGED = "changed"
# Long values (word lists) are cut: the entry says what changed, not everything.
MAX_VALUE_LENGTH = 1000

_TARGET_TYPES = {
    Site: "site",
    Moderator: "moderator",
    Ban: "ban",
    WebhookEndpoint: "webhook_endpoint",
    Account: "account",
}


def _plain(value):
    """*value* as JSON can hold it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str):
        if len(value) > MAX_VALUE_LENGTH:
            return value[:MAX_VALUE_LENGTH] + "…"
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def diff(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for the fields whose value differs (a secret's:
    ``{field: "changed"}``)."""
    changes = {}
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        changes[name] = CHANGED if name in SECRET_FIELDS else [_plain(old), _plain(new)]
    return changes


def _label(target) -> str:
    if isinstance(target, Site):
        return target.slug
    if isinstance(target, Moderator):
        return target.username
    if isinstance(target, Ban):
        return f"{target.kind.value} {target.value}"
    if isinstance(target, Account):
        return f"{target.name} ({target.provider})"
    return target.url


def record(
    kind: str,
    target,
    changes: dict | None = None,
    actor=None,
    site=None,
    comment_id: int | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (the caller commits it with the change).

    *target* is the Site, Moderator, Ban or WebhookEndpoint the entry names;
    *changes* ``{field: [old, new]}`` (see :func:`diff`); *actor* the moderator
    acting, or None for the command line; *site* the Site (or id) the change
    belongs to, None for none (then only admins see it).

    Raises:
        ValueError: *kind* is not one of KINDS, or *target* not a known type.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown audit kind {kind!r}.")
    # isinstance, not type(): the UI's current_user is a proxy of a Moderator.
    types = (name for cls, name in _TARGET_TYPES.items() if isinstance(target, cls))
    target_type = next(types, None)
    if target_type is None:
        raise ValueError(f"Cannot audit a {type(target).__name__}.")
    if target.id is None:
        db.session.flush()  # the new row's id, named by the entry
    safe = {
        name: CHANGED if name in SECRET_FIELDS else _plain(value)
        for name, value in (changes or {}).items()
    }
    entry = AuditEntry(
        kind=kind,
        target_type=target_type,
        target_id=target.id,
        target_label=_label(target)[:300],
        moderator_id=getattr(actor, "id", None),
        site_id=site.id if isinstance(site, Site) else site,
        comment_id=comment_id,
        changes=safe,
    )
    db.session.add(entry)
    return entry

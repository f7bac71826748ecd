"""Each audit trail item as a row a moderator reads: who, when, a sentence of
parts that link to what they name (only where the viewer may open it), and
the site."""

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for

from ..models import AuditEntry, ModerationEvent
from .audit_trail import Item

# How a value is shown at most (word lists can be long).
SHOWN = 80

_VERBS = {
    "ban.added": "Banned",
    "ban.lifted": "Lifted the ban on",
    "site.created": "Created the site",
    "site.settings": "Changed the settings of",
    "site.origins": "Changed the allowed origins of",
    "moderator.created": "Created the account",
    "moderator.sites": "Changed the sites of",
    "moderator.deactivated": "Deactivated",
    "moderator.reactivated": "Reactivated",
    "moderator.password_reset": "Set a new password for",
    "moderator.password_changed": "Changed the password of",
    "webhook.endpoint_added": "Added the webhook endpoint",
    "webhook.endpoint_disabled": "Disabled the webhook endpoint",
    "webhook.endpoint_enabled": "Enabled the webhook endpoint",
    "webhook.secret_rotated": "Rotated the secret of the webhook endpoint",
    "mail.settings": "Changed the mail settings of",
    "site.sign_in": "Changed the readers' sign-in of",
    "site.sso_secret_created": "Created the sign-in (SSO) secret of",
    "site.sso_secret_rotated": "Rotated the sign-in (SSO) secret of",
    "reader.suspended": "Suspended the reader account",
    "reader.suspension_lifted": "Lifted the suspension of the reader account",
    "reader.banned": "Banned the reader account",
    "reader.unbanned": "Lifted the ban on the reader account",
    "reader.staff": "Changed the staff badge of the reader account",
}
# Shown as they are: what the sentence already says.
_IMPLIED = {"active", "secret", "password", "sso_secret"}


@dataclass
class Row:
    at: datetime
    who: str
    who_url: str | None
    kind: str
    parts: list[tuple[str, str | None]] = field(default_factory=list)
    site: str | None = None
    site_url: str | None = None

    def add(self, text: str, url: str | None = None) -> None:
        self.parts.append((text, url))


def _short(value) -> str:
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value).replace("\n", " ")
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def describe_changes(changes: dict) -> str:
    """``name: old → new; secret changed`` for the fields the sentence does not
    already say."""
    said = []
    for name, change in sorted(changes.items()):
        if name in _IMPLIED:
            continue
        label = name.replace("_", " ")
        if isinstance(change, list) and len(change) == 2:
            old, new = change
            said.append(
                f"{label}: {_short(new)}"
                if old is None
                else f"{label}: {_short(old)} → {_short(new)}"
            )
        elif change == "changed":
            said.append(f"{label} changed")
        else:
            said.append(f"{label}: {_short(change)}")
    return "; ".join(said)


class Links:
    """URLs of what the viewer may open (None for the rest)."""

    def __init__(self, viewer):
        self.admin = viewer.is_admin
        self.webhooks = "webhooks_admin.endpoint" in current_app.view_functions

    def comment(self, comment_id: int) -> str:
        return url_for("moderation.comment", comment_id=comment_id)

    def moderator(self, moderator_id: int | None) -> str | None:
        if not self.admin or moderator_id is None:
            return None
        return url_for("moderation.moderator", moderator_id=moderator_id)

    def site(self, slug: str | None) -> str | None:
        if not self.admin or slug is None:
            return None
        return url_for("moderation.site_settings", slug=slug)

    def target(self, entry: AuditEntry) -> str | None:
        if entry.target_type == "ban":
            return url_for("moderation.bans")
        if entry.target_type == "site":
            return self.site(entry.target_label)
        if entry.target_type == "moderator":
            return self.moderator(entry.target_id)
        if entry.target_type == "account":
            return url_for("moderation.reader_account", account_id=entry.target_id)
        if entry.target_type == "webhook_endpoint" and self.admin and self.webhooks:
            return url_for("webhooks_admin.endpoint", endpoint_id=entry.target_id)
        return None


def describe(item: Item, links: Links) -> Row:
    """The row of one trail item."""
    record = item.record
    moderator = record.moderator
    if isinstance(record, ModerationEvent):
        row = Row(
            item.at,
            moderator.username if moderator else "system",
            links.moderator(record.moderator_id),
            "decision",
        )
        site = record.comment.site
        row.site, row.site_url = site.name, links.site(site.slug)
        _decision(row, record, links)
        return row
    row = Row(
        item.at,
        moderator.username if moderator else "command line",
        links.moderator(record.moderator_id),
        record.kind,
    )
    if record.site is not None:
        row.site, row.site_url = record.site.name, links.site(record.site.slug)
    _entry(row, record, links)
    return row


def _decision(row: Row, event: ModerationEvent, links: Links) -> None:
    comment = event.comment
    row.add("Moved ")
    row.add(f"comment #{comment.id} by {comment.author}", links.comment(comment.id))
    row.add(
        f" from {event.from_status.value} to {event.to_status.value}"
        if event.from_status
        else f" to {event.to_status.value}"
    )
    if event.reason:
        row.add(f": “{event.reason}”")


def _entry(row: Row, entry: AuditEntry, links: Links) -> None:
    row.add(_VERBS.get(entry.kind, entry.kind) + " ")
    changes = dict(entry.changes or {})
    if entry.kind == "moderator.password_changed" and (
        entry.moderator_id == entry.target_id
    ):
        row.parts[-1] = ("Changed their own password", None)
        return
    row.add(entry.target_label, links.target(entry))
    if entry.kind.startswith("ban."):
        changes.pop("kind", None)
        changes.pop("value", None)
        if "until" in changes:  # an ISO time, or None for no end
            changes["until"] = (changes["until"] or "forever")[:10]
    if entry.comment_id is not None:
        row.add(" (from ")
        row.add(f"comment #{entry.comment_id}", links.comment(entry.comment_id))
        row.add(")")
    said = describe_changes(changes)
    if said:
        row.add(f": {said}")

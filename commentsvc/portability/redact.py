"""The rest of an erasure: every other row that holds the reader's address.

Erasing a reader's comments (:mod:`.erasure`) is not enough: moderators and
other readers write the address elsewhere. Here, on every site:

- an e-mail **ban** of the address keeps working without it: its value becomes
  a keyed hash (``erased:<hmac>``, commentsvc.comments.bans.erased_email_value)
  that the ban check matches too. It stops matching if SECRET_KEY changes;
- the address is replaced by :data:`ERASED` wherever it appears in free text:
  ban reasons, the audit trail's labels and recorded changes
  (``audit_entries``), decisions' reasons (``moderation_events``), readers'
  report explanations (``comment_reports``), stored webhook events (also those
  of other comments: a report's explanation) and stored mail (``mail_messages``).

Other people's comment bodies that quote the address are their words and are
left alone (a moderator edits or deletes them). Rows are found by a
case-insensitive substring search of their text, then rewritten in Python.
"""

import json
import re
from dataclasses import dataclass

import sqlalchemy as sa

from ..comments.bans import erased_email_value
from ..extensions import db
from ..models import (
    AuditEntry,
    Ban,
    BanKind,
    CommentReport,
    MailMessage,
    ModerationEvent,
    WebhookEvent,
)

ERASED = "[erased]"

# Free-text columns, then JSON columns (their text searched, their strings
# rewritten).
_TEXT = (
    (Ban, Ban.reason),
    (AuditEntry, AuditEntry.target_label),
    (ModerationEvent, ModerationEvent.reason),
    (CommentReport, CommentReport.explanation),
)
_JSON = (
    (AuditEntry, AuditEntry.changes),
    (WebhookEvent, WebhookEvent.payload),
    (MailMessage, MailMessage.data),
)


@dataclass
class Redacted:
    bans: int = 0  # e-mail bans kept as a keyed hash
    rows: int = 0  # rows whose text named the address


def _holding(column, email: str):
    """Rows whose *column* (as text) holds *email*, whatever its case. JSON text
    may escape a non-ASCII address (``\\u00e9``): both spellings are sought."""
    text = sa.func.lower(sa.cast(column, sa.Text))
    spellings = {email, json.dumps(email)[1:-1]}
    return sa.or_(*(text.contains(s, autoescape=True) for s in spellings))


def _rewrite(value, pattern: re.Pattern):
    """*value* (a JSON value or text) with every match of *pattern* replaced."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_rewrite(item, pattern) for item in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, pattern) for k, v in value.items()}
    return value


def rows_holding(email: str) -> int:
    """How many rows :func:`redact_address` would change."""
    email = email.strip().lower()
    if not email:
        return 0
    total = db.session.scalar(
        sa.select(sa.func.count()).where(
            Ban.kind == BanKind.EMAIL, sa.func.lower(Ban.value) == email
        )
    )
    for model, column in (*_TEXT, *_JSON):
        total += db.session.scalar(
            sa.select(sa.func.count(model.id)).where(_holding(column, email))
        )
    return total


def redact_address(email: str) -> Redacted:
    """Keep e-mail bans of *email* as a keyed hash and replace the address in
    every other row that holds it, in the caller's transaction (not committed
    here)."""
    email = email.strip().lower()
    done = Redacted()
    if not email:
        return done
    done.bans = db.session.execute(
        sa.update(Ban)
        .where(Ban.kind == BanKind.EMAIL, sa.func.lower(Ban.value) == email)
        .values(value=erased_email_value(email))
        .execution_options(synchronize_session=False)
    ).rowcount
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    for model, column in (*_TEXT, *_JSON):
        found = db.session.execute(
            sa.select(model.id, column).where(_holding(column, email))
        ).all()
        for row_id, value in found:
            db.session.execute(
                sa.update(model)
                .where(model.id == row_id)
                .values({column.key: _rewrite(value, pattern)})
                .execution_options(synchronize_session=False)
            )
        done.rows += len(found)
    return done

"""One reader's address seen two ways: the exact address a link is bound to
(:func:`address_tag`), and the mailbox behind it (:func:`mailbox_key`:
``Ann+news@Example.org`` and ``ann+blog@example.org`` are one mailbox), whose
mail caused by form posts is counted across sites (:func:`claim`)."""

import base64
import hashlib
import hmac
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import MailboxCount, utcnow

CONFIRM = "confirm"
NOTICE = "notice"
_CAPS = {CONFIRM: "MAIL_CONFIRMATIONS_PER_DAY", NOTICE: "MAIL_NOTICES_PER_DAY"}
_counts = MailboxCount.__table__


def _keyed(purpose: str, text: str) -> bytes:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"{purpose}\0{text}".encode(), hashlib.sha256).digest()


def address_tag(email: str) -> str:
    """A short keyed hash of *email* (any case): a link carries it, so that it
    acts only on the address it was sent to, never on a later reader given the
    same row id, and without the address itself in the URL."""
    digest = _keyed("commentsvc.mail.address", email.strip().lower())
    return base64.urlsafe_b64encode(digest[:12]).decode()


def tag_matches(tag, email: str) -> bool:
    return isinstance(tag, str) and hmac.compare_digest(tag, address_tag(email))


def normalise(email: str) -> str:
    """The mailbox of *email*: case folded, ``+tag`` dropped from the local part."""
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.partition('+')[0]}@{domain}"


def mailbox_key(email: str) -> str:
    return _keyed("commentsvc.mail.mailbox", normalise(email)).hex()[:64]


def dialect_insert(table):
    """An INSERT of the session's dialect (for ON CONFLICT): the mail's upserts
    (here and in commentsvc.mail.outbox) share it."""
    dialect = db.session.connection().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def claim(email: str, kind: str) -> bool:
    """Count one mail of *kind* to the mailbox of *email* today, in the caller's
    transaction; False (and nothing counted) when the day's cap is reached.
    One conditional upsert: concurrent posts in other processes cannot pass
    the cap together."""
    cap = current_app.config[_CAPS[kind]]
    statement = dialect_insert(_counts).values(
        mailbox=mailbox_key(email), kind=kind, day=utcnow().date(), count=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=["mailbox", "kind", "day"],
        set_={"count": _counts.c.count + 1},
        where=_counts.c.count < cap,
    )
    # RETURNING, not rowcount: drivers differ on an upsert's rowcount.
    statement = statement.returning(_counts.c.count)
    return db.session.connection().execute(statement).first() is not None


def purge_past_days() -> int:
    """Delete the counts of days before yesterday (no commit); returns how many."""
    before = utcnow().date() - timedelta(days=1)
    return (
        db.session.connection()
        .execute(sa.delete(_counts).where(_counts.c.day < before))
        .rowcount
    )

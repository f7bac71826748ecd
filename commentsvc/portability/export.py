"""Exports: a site's threads and comments in our format (:mod:`.native` reads
it back), and every comment of one e-mail address with the reply
notifications it asked for (a reader's data request).

Both are written as a stream: rows are read from a server-side cursor in
batches and each record is written as soon as it is read.
"""

import json
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Comment,
    MailRecipient,
    MailSubscription,
    Site,
    Thread,
    as_utc,
    utcnow,
)
from .native import FORMAT, SOURCE, VERSION

AUTHOR_FORMAT = "commentsvc-author-export"
_YIELD = 1000


def _date(value: datetime | None) -> str | None:
    """Full precision (microseconds), so a round trip keeps the order of
    comments posted within one second."""
    value = as_utc(value)
    return value.isoformat() if value is not None else None


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _stream(query):
    connection = db.session.connection().execution_options(
        stream_results=True, yield_per=_YIELD
    )
    yield from connection.execute(query)


def write_site(site: Site, out) -> dict:
    """Write the export of *site* to the text stream *out*; return the counts.

    Every thread (even one without comments left) and every comment whatever
    its status. A comment's ``key`` is the ``import_key`` it will carry once
    imported: the one it already has (from an earlier import), or
    ``commentsvc:<id>``; ``parent_key`` is its parent's.
    """
    c = Comment.__table__.alias("c")
    parent = Comment.__table__.alias("p")
    t = Thread.__table__
    query = (
        sa.select(
            t.c.id.label("t_id"),
            t.c.key.label("t_key"),
            t.c.url.label("t_url"),
            t.c.title.label("t_title"),
            t.c.created_at.label("t_created_at"),
            t.c.comments_open.label("t_comments_open"),
            c,
            parent.c.import_key.label("parent_import_key"),
        )
        .select_from(
            t.outerjoin(c, c.c.thread_id == t.c.id).outerjoin(
                parent, parent.c.id == c.c.parent_id
            )
        )
        .where(t.c.site_id == site.id)
        .order_by(t.c.id, c.c.created_at, c.c.id)
    )
    header = {
        "format": FORMAT,
        "version": VERSION,
        "site": site.slug,
        "exported_at": _date(utcnow()),
    }
    out.write("{" + _dump(header)[1:-1] + ',"records":[\n')
    counts = {"threads": 0, "comments": 0}
    first, thread = True, None
    for row in _stream(query):
        records = []
        if row.t_id != thread:
            thread = row.t_id
            counts["threads"] += 1
            records.append(
                {
                    "type": "thread",
                    "key": row.t_key,
                    "url": row.t_url,
                    "title": row.t_title,
                    "created_at": _date(row.t_created_at),
                    "comments_open": row.t_comments_open,
                }
            )
        if row.id is not None:
            counts["comments"] += 1
            records.append(_comment(row))
        for record in records:
            out.write(("" if first else ",\n") + _dump(record))
            first = False
    out.write("\n]}\n")
    return counts


def _key(import_key: str | None, ident: int | None) -> str | None:
    if ident is None:
        return None
    return import_key or f"{SOURCE}:{ident}"


def _comment(row) -> dict:
    return {
        "type": "comment",
        "thread": row.t_key,
        "id": row.id,
        "key": _key(row.import_key, row.id),
        "parent_id": row.parent_id,
        "parent_key": _key(row.parent_import_key, row.parent_id),
        "author": row.author,
        "email": row.email,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "body": row.body,
        "body_html": row.body_html,
        "status": row.status.value,
        "page_title": row.page_title,
        "signals": row.signals,
        "created_at": _date(row.created_at),
        "moderated_at": _date(row.moderated_at),
        "edited_at": _date(row.edited_at),
    }


def author_filter(email: str):
    """Comments of *email*, whatever its case."""
    return sa.func.lower(Comment.email) == email.strip().lower()


def write_author(email: str, out) -> int:
    """Write every comment of *email*, on every site, as one JSON document to
    *out*; return how many."""
    c = Comment.__table__
    t = Thread.__table__
    s = Site.__table__
    query = (
        sa.select(
            s.c.slug,
            t.c.key.label("t_key"),
            t.c.url,
            t.c.title,
            c,
        )
        .select_from(c.join(t, t.c.id == c.c.thread_id).join(s, s.c.id == c.c.site_id))
        .where(author_filter(email))
        .order_by(c.c.created_at, c.c.id)
    )
    header = {
        "format": AUTHOR_FORMAT,
        "version": VERSION,
        "email": email.strip(),
        "exported_at": _date(utcnow()),
    }
    out.write("{" + _dump(header)[1:-1] + ',"comments":[\n')
    count = 0
    for row in _stream(query):
        record = {
            "site": row.slug,
            "thread": row.t_key,
            "url": row.url,
            "title": row.title,
            "id": row.id,
            "parent_id": row.parent_id,
            "author": row.author,
            "email": row.email,
            "ip": row.ip,
            "user_agent": row.user_agent,
            "body": row.body,
            "status": row.status.value,
            "created_at": _date(row.created_at),
        }
        out.write(("" if count == 0 else ",\n") + _dump(record))
        count += 1
    out.write('\n],"mail":' + _dump(_mail_of(email)) + "}\n")
    return count


def _mail_of(email: str) -> list[dict]:
    """Where the address asked for reply notifications: per site, when it was
    confirmed or unsubscribed, and the threads it follows."""
    recipients = db.session.execute(
        sa.select(MailRecipient, Site.slug)
        .join(Site, Site.id == MailRecipient.site_id)
        .where(sa.func.lower(MailRecipient.email) == email.strip().lower())
        .order_by(MailRecipient.id)
    ).all()
    found = []
    for recipient, slug in recipients:
        threads = db.session.scalars(
            sa.select(Thread.key)
            .join(MailSubscription, MailSubscription.thread_id == Thread.id)
            .where(
                MailSubscription.recipient_id == recipient.id,
                MailSubscription.active.is_(True),
            )
            .order_by(Thread.key)
        )
        found.append(
            {
                "site": slug,
                "email": recipient.email,
                "created_at": _date(recipient.created_at),
                "confirmed_at": _date(recipient.confirmed_at),
                "unsubscribed_at": _date(recipient.unsubscribed_at),
                "threads": list(threads),
            }
        )
    return found

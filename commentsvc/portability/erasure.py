"""Erasing one reader's comments at their request.

Each comment of the e-mail address stays where it is (its replies keep their
place and their context) but says nothing of its author any more: author and
body ``[deleted]``, no e-mail, no IP address, no user agent, no signals (they
can name the address: a ban, a rule that fired). Its status does not change,
except that a comment still waiting for a moderator leaves the queue as
deleted (approving "[deleted]" would publish nothing of anyone).

Each erased comment gets a row in the audit trail (``moderation_events``):
no moderator ("system" on the audit page), from and to its status,
reason :data:`REASON`. Webhook events already written about it lose the same
fields. The listings of the threads touched are invalidated after the commit.

The address is also forgotten by the mail of every site: its "notify me of
replies" subscriptions and any mail to it not sent yet are deleted. Every
other row that names it (bans, ban reasons, the audit trail, report
explanations, stored webhook events and mail) is rewritten by :mod:`.redact`;
an e-mail ban keeps working by a keyed hash.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from ..comments.cache import invalidate
from ..comments.render import render_body
from ..extensions import db
from ..models import (
    Account,
    Comment,
    CommentRevision,
    CommentStatus,
    MailMessage,
    MailRecipient,
    MailSubscription,
    ModerationEvent,
    ReaderSession,
    SignInLink,
    Site,
    Thread,
    WebhookEvent,
    utcnow,
)
from ..spam import neardup
from ..spam.rules import body_digest
from .export import author_filter
from .redact import redact_address

ERASED = "[deleted]"
REASON = "erased at the author's request (comments erase-author)"
_BATCH = 500


@dataclass
class Erasure:
    comments: int = 0
    sites: int = 0
    threads: int = 0
    webhook_events: int = 0
    mail_addresses: int = 0
    bans: int = 0  # e-mail bans kept as a keyed hash
    redacted: int = 0  # other rows whose text named the address
    accounts: int = 0  # readers' sign-in accounts of the address (any site)


def _recipients(email: str):
    return sa.select(MailRecipient.id).where(
        sa.func.lower(MailRecipient.email) == email.strip().lower()
    )


def mail_addresses(email: str) -> int:
    """How many sites keep *email* (any case) for reply notifications."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(_recipients(email).subquery())
    )


def _forget_mail(email: str) -> int:
    """Delete the address's subscriptions, unsent mail and the address itself
    on every site, in one transaction; return how many sites had it."""
    ids = list(db.session.scalars(_recipients(email)))
    if not ids:
        return 0
    try:
        db.session.execute(
            sa.delete(MailMessage).where(MailMessage.recipient_id.in_(ids))
        )
        db.session.execute(
            sa.delete(MailSubscription).where(MailSubscription.recipient_id.in_(ids))
        )
        db.session.execute(sa.delete(MailRecipient).where(MailRecipient.id.in_(ids)))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(ids)


def accounts_count(email: str) -> int:
    """How many readers' sign-in accounts (on any site) have *email*."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Account)
        .where(sa.func.lower(Account.email) == email.strip().lower())
    )


def _forget_accounts(email: str) -> int:
    """Delete the readers' accounts of the address on every site (their
    sessions go with them) and its pending sign-in links; return how many
    accounts. Their comments were erased already (by address)."""
    address = email.strip().lower()
    try:
        ids = list(
            db.session.scalars(
                sa.select(Account.id).where(sa.func.lower(Account.email) == address)
            )
        )
        if ids:
            db.session.execute(
                sa.update(Comment)
                .where(Comment.account_id.in_(ids))
                .values(account_id=None)
                .execution_options(synchronize_session=False)
            )
            db.session.execute(
                sa.delete(ReaderSession).where(ReaderSession.account_id.in_(ids))
            )
            db.session.execute(sa.delete(Account).where(Account.id.in_(ids)))
        db.session.execute(
            sa.delete(SignInLink).where(sa.func.lower(SignInLink.email) == address)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(ids)


def count(email: str) -> tuple[int, int]:
    """How many comments of *email* there are, on how many sites."""
    row = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(Comment.site_id))).where(
            author_filter(email)
        )
    ).one()
    return row[0], row[1]


def erase_author(email: str) -> Erasure:
    """Erase every comment of *email* (any case), a batch per transaction."""
    result = Erasure()
    touched = erase_comments(author_filter(email), REASON, result)
    result.mail_addresses = _forget_mail(email)
    result.accounts = _forget_accounts(email)
    try:
        redacted = redact_address(email)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    result.bans, result.redacted = redacted.bans, redacted.rows
    for slug, key in touched:
        invalidate(slug, key)
    return result


def erase_comments(condition, reason: str, result: Erasure) -> set[tuple[str, str]]:
    """Erase the comments *condition* selects (see the module's docstring), a
    batch per transaction, audited with *reason*; count them in *result* and
    return the (site slug, thread key) of the listings to invalidate."""
    touched: set[tuple[str, str]] = set()
    sites: set[int] = set()
    html = render_body(ERASED)
    last = 0
    while True:
        rows = db.session.execute(
            sa.select(
                Comment.id, Comment.site_id, Comment.status, Site.slug, Thread.key
            )
            .join(Thread, Thread.id == Comment.thread_id)
            .join(Site, Site.id == Comment.site_id)
            .where(condition, Comment.id > last)
            .order_by(Comment.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        ids = [r.id for r in rows]
        now = utcnow()
        try:
            db.session.execute(
                sa.update(Comment)
                .where(Comment.id.in_(ids))
                .values(
                    author=ERASED,
                    body=ERASED,
                    body_hash=body_digest(ERASED),
                    body_html=html,
                    # The words a moderator decided, kept for the spam filter.
                    decided_body=None,
                    email=None,
                    ip=None,
                    user_agent=None,
                    signals={"erased": True},
                    account_id=None,
                    status=sa.case(
                        (
                            Comment.status == CommentStatus.PENDING,
                            CommentStatus.DELETED,
                        ),
                        else_=Comment.status,
                    ),
                    version=Comment.version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            # Edits waiting for (or decided by) a moderator hold the text too.
            db.session.execute(
                sa.delete(CommentRevision).where(CommentRevision.comment_id.in_(ids))
            )
            # So do their near-duplicate signatures (shingles of the words).
            neardup.forget(ids)
            db.session.execute(
                sa.insert(ModerationEvent),
                [
                    {
                        "site_id": r.site_id,
                        "comment_id": r.id,
                        "moderator_id": None,
                        "from_status": r.status,
                        "to_status": _after(r.status),
                        "reason": reason,
                        "created_at": now,
                    }
                    for r in rows
                ],
            )
            result.webhook_events += _scrub_events(ids, html)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        result.comments += len(rows)
        sites.update(r.site_id for r in rows)
        touched.update((r.slug, r.key) for r in rows)
    result.sites = len(sites)
    result.threads = len(touched)
    return touched


def _after(status: CommentStatus) -> CommentStatus:
    return CommentStatus.DELETED if status == CommentStatus.PENDING else status


def _scrub_events(ids: list[int], html: str) -> int:
    """Webhook events about the comments *ids* lose the author's data."""
    comment_id = WebhookEvent.payload["data"]["comment"]["id"].as_integer()
    events = db.session.execute(
        sa.select(WebhookEvent.id, WebhookEvent.payload).where(comment_id.in_(ids))
    ).all()
    for event_id, payload in events:
        data = dict(payload["data"])
        data["comment"] = {
            **data["comment"],
            "author": ERASED,
            "email": None,
            "body": ERASED,
            "html": html,
        }
        db.session.execute(
            sa.update(WebhookEvent)
            .where(WebhookEvent.id == event_id)
            .values(payload={**payload, "data": data})
        )
    return len(events)

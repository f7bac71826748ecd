"""What a signed-in reader sees and does with their own data: their account,
their comments and reply subscriptions on the site, a download of it all, and
its erasure (docs/privacy.md)."""

import sqlalchemy as sa

from ..comments.cache import invalidate
from ..extensions import db
from ..mail import outbox
from ..models import (
    Account,
    Comment,
    MailMessage,
    MailRecipient,
    MailSubscription,
    Thread,
    iso8601,
    utcnow,
)
from ..portability import erasure
from . import sessions

# The newest comments the account panel lists.
SHOWN = 50
EXCERPT = 140
ERASED_REASON = "erased at the author's request (their account, self-service)"


class NotSubscribed(LookupError):
    """The subscription is not the reader's (or no longer exists)."""


def profile(account: Account) -> dict:
    return {
        "id": account.id,
        "name": account.name,
        "email": account.email,
        "avatar": account.avatar_url,
        "provider": account.provider,
        "staff": account.staff,
        "suspended_until": iso8601(account.suspended_until),
        "suspension_reason": account.suspension_reason,
    }


def _excerpt(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def recent_comments(account: Account) -> list[dict]:
    rows = db.session.execute(
        sa.select(Comment.id, Comment.status, Comment.created_at, Comment.body)
        .add_columns(Thread.key, Thread.url)
        .join(Thread, Thread.id == Comment.thread_id)
        .where(Comment.account_id == account.id)
        .order_by(Comment.id.desc())
        .limit(SHOWN)
    ).all()
    return [
        {
            "id": row.id,
            "thread": row.key,
            "url": row.url,
            "status": row.status.value,
            "created_at": iso8601(row.created_at),
            "excerpt": _excerpt(row.body),
        }
        for row in rows
    ]


def _recipient_ids(account: Account):
    return sa.select(MailRecipient.id).where(
        MailRecipient.site_id == account.site_id,
        sa.func.lower(MailRecipient.email) == (account.email or "").lower(),
    )


def subscriptions(account: Account) -> list[dict]:
    """The pages whose replies the account's address hears about here."""
    if not account.email:
        return []
    rows = db.session.execute(
        sa.select(MailSubscription.id, Thread.key, Thread.url, Thread.title)
        .join(Thread, Thread.id == MailSubscription.thread_id)
        .where(
            MailSubscription.recipient_id.in_(_recipient_ids(account)),
            MailSubscription.active.is_(True),
        )
        .order_by(MailSubscription.id.desc())
    ).all()
    return [
        {"id": row.id, "thread": row.key, "url": row.url, "title": row.title}
        for row in rows
    ]


def overview(account: Account) -> dict:
    """The account panel: the account, its newest comments, its subscriptions."""
    return {
        "account": profile(account),
        "comments": recent_comments(account),
        "subscriptions": subscriptions(account),
    }


def rename(account: Account, name: str) -> None:
    """Change the display name (validated by the caller) of an account whose
    name is its own to choose (e-mail accounts; others follow their provider).
    Commits. Comments already posted keep the name they were posted with."""
    account.name = name
    db.session.commit()


def unsubscribe(account: Account, subscription_id: int) -> None:
    """Stop reply mail about one page. Commits.

    Raises:
        NotSubscribed: not a subscription of the account's address here.
    """
    row = db.session.get(MailSubscription, subscription_id)
    if (
        row is None
        or not account.email
        or row.recipient_id not in set(db.session.scalars(_recipient_ids(account)))
    ):
        raise NotSubscribed(subscription_id)
    try:
        outbox.unsubscribe_thread(row.recipient_id, row.thread_id)
        outbox.cancel_pending(row.recipient_id, row.thread_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def export(account: Account) -> dict:
    """Everything stored about the account on its site, as JSON."""
    c = Comment.__table__
    rows = db.session.execute(
        sa.select(c, Thread.key.label("t_key"), Thread.url.label("t_url"))
        .join(Thread, Thread.id == c.c.thread_id)
        .where(c.c.account_id == account.id)
        .order_by(c.c.id)
    ).all()
    comments = [
        {
            "id": row.id,
            "thread": row.t_key,
            "url": row.t_url,
            "parent_id": row.parent_id,
            "author": row.author,
            "email": row.email,
            "body": row.body,
            "status": row.status.value,
            "ip": row.ip,
            "user_agent": row.user_agent,
            "created_at": iso8601(row.created_at),
            "edited_at": iso8601(row.edited_at),
        }
        for row in rows
    ]
    return {
        "format": "commentsvc-account",
        "version": 1,
        "exported_at": iso8601(utcnow()),
        "account": {
            **profile(account),
            "subject": account.subject,
            "created_at": iso8601(account.created_at),
            "last_seen_at": iso8601(account.last_seen_at),
        },
        "comments": comments,
        "subscriptions": subscriptions(account),
    }


def erase(account: Account, slug: str) -> int:
    """Erase the account: its comments stay in their threads as "[deleted]"
    (replies keep their place, see portability.erasure), its address's reply
    subscriptions on this site and its sessions go, then the account itself.
    Returns how many comments were erased.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed (what was committed
            before stays erased; the account is removed last, so a retry
            finishes the job).
    """
    account_id, email, site_id = account.id, account.email, account.site_id
    result = erasure.Erasure()
    touched = erasure.erase_comments(
        Comment.account_id == account_id, ERASED_REASON, result
    )
    try:
        if email:
            recipients = list(
                db.session.scalars(
                    sa.select(MailRecipient.id).where(
                        MailRecipient.site_id == site_id,
                        sa.func.lower(MailRecipient.email) == email.lower(),
                    )
                )
            )
            if recipients:
                mine = MailMessage.recipient_id.in_(recipients)
                db.session.execute(sa.delete(MailMessage).where(mine))
                ids = MailSubscription.recipient_id.in_(recipients)
                db.session.execute(sa.delete(MailSubscription).where(ids))
                db.session.execute(
                    sa.delete(MailRecipient).where(MailRecipient.id.in_(recipients))
                )
        sessions.end_all(account_id)
        db.session.execute(sa.delete(Account).where(Account.id == account_id))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    for _, key in touched:
        invalidate(slug, key)
    return result.comments

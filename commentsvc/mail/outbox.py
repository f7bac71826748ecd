"""The mail outbox: rows written in the caller's transaction (nothing here
commits), rendered and sent later by the worker."""

from datetime import timedelta
from email.utils import make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import (
    Comment,
    DeliveryStatus,
    MailMessage,
    MailRecipient,
    MailSubscription,
    Moderator,
    ModeratorMailSetting,
    Role,
    as_utc,
    moderator_sites,
    utcnow,
)
from . import mailbox
from .mailbox import dialect_insert as _insert

MODERATOR_COMMENT = "moderator_comment"
MODERATOR_DIGEST = "moderator_digest"
# Readers' reports of a comment reached the site's threshold.
MODERATOR_REPORTED = "moderator_reported"
# A published comment's edit awaits a decision (comments.revisions).
MODERATOR_EDIT = "moderator_edit"
CONFIRM = "confirm"
REPLY = "reply"
APPROVED = "approved"
# "You will now get replies on <page>", with a one-click undo.
NOTICE = "subscribed"
READER_KINDS = (CONFIRM, REPLY, APPROVED, NOTICE)
# A reader's one-time sign-in link (commentsvc.accounts.email): to an address
# that may have no recipient row, and never with an unsubscribe link.
SIGN_IN = "sign_in"
MODES = ("each", "hourly", "daily", "none")
# A second confirmation mail to one address waits this long: a form cannot be
# used to flood someone's inbox.
CONFIRM_EVERY = timedelta(days=1)

_outbox = MailMessage.__table__
_recipients = MailRecipient.__table__
_subscriptions = MailSubscription.__table__


def new_message_id() -> str:
    domain = parseaddr(current_app.config["MAIL_FROM"] or "")[1].rpartition("@")[2]
    return make_msgid("commentsvc", domain=domain or "localhost")


def queue(kind: str, site_id: int, **refs) -> None:
    """Add one message to the current transaction (no commit)."""
    now = utcnow()
    db.session.connection().execute(
        sa.insert(_outbox),
        {
            "kind": kind,
            "site_id": site_id,
            "moderator_id": refs.get("moderator_id"),
            "recipient_id": refs.get("recipient_id"),
            "comment_id": refs.get("comment_id"),
            "data": refs.get("data") or {},
            "message_id": new_message_id(),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )


def moderators_to_mail(
    site_id: int, modes: tuple[str, ...] = ("each",), reports: bool = False
) -> list:
    """Active moderators of the site with an address whose setting for it is
    one of *modes* (no setting counts as "each"); with *reports*, those who
    want mail about reported comments whatever their mode (no setting: yes)."""
    setting = sa.orm.aliased(ModeratorMailSetting)
    if reports:
        wanted = sa.or_(setting.reports.is_(None), setting.reports)
    else:
        wanted = sa.func.coalesce(setting.mode, "each").in_(modes)
    assigned = sa.exists().where(
        moderator_sites.c.moderator_id == Moderator.id,
        moderator_sites.c.site_id == site_id,
    )
    return list(
        db.session.scalars(
            sa.select(Moderator.id)
            .outerjoin(
                setting,
                sa.and_(
                    setting.moderator_id == Moderator.id, setting.site_id == site_id
                ),
            )
            .where(
                Moderator.active.is_(True),
                Moderator.email.is_not(None),
                Moderator.email != "",
                sa.or_(Moderator.role == Role.ADMIN, assigned),
                wanted,
            )
        )
    )


def subscribe(site_id: int, email: str, thread_id: int) -> None:
    """The reader *email* wants mail about replies on the thread: store it, and
    queue a confirmation if the address is not confirmed, or a notice (with a
    one-click undo) if it is and the page is new to it.

    Whoever posts may give any address, so what a post can cause is bounded:
    an address that chose "stop all mail" is left alone (only a link mailed to
    it starts mail again); a confirmation goes to an address at most once a
    day and to a mailbox (``+tag`` dropped, any case, across sites) at most
    MAIL_CONFIRMATIONS_PER_DAY times; notices at most MAIL_NOTICES_PER_DAY a
    day, and past that the page is not subscribed (never without a word).
    Inserts that cannot fail on a concurrent duplicate (ON CONFLICT), so a
    second post by the same reader at the same moment never loses its comment.
    """
    now = utcnow()
    connection = db.session.connection()
    connection.execute(
        _insert(_recipients)
        .values(site_id=site_id, email=email, created_at=now)
        .on_conflict_do_nothing(index_elements=["site_id", "email"])
    )
    # Locked (PostgreSQL) against a confirmation at the same moment: either
    # it sees this page (and announces it) or this sees it confirmed.
    recipient = connection.execute(
        sa.select(_recipients)
        .where(_recipients.c.site_id == site_id, _recipients.c.email == email)
        .with_for_update()
    ).one()
    if recipient.unsubscribed_at is not None:
        return  # "stop all mail" stands: a stranger's tick must not undo it
    added = _subscribe_thread(recipient.id, thread_id, now)
    if recipient.confirmed_at is not None:
        if added:
            _announce(site_id, recipient.id, email, thread_id)
        return
    sent = recipient.confirm_sent_at
    if sent is not None and as_utc(sent) > now - CONFIRM_EVERY:
        return
    # Conditional: of two concurrent posts only one queues the confirmation.
    claimed = connection.execute(
        sa.update(_recipients)
        .where(
            _recipients.c.id == recipient.id,
            _recipients.c.confirm_sent_at.is_(None)
            if sent is None
            else _recipients.c.confirm_sent_at == sent,
        )
        .values(confirm_sent_at=now)
    ).rowcount
    if claimed and mailbox.claim(email, mailbox.CONFIRM):
        queue(CONFIRM, site_id, recipient_id=recipient.id)


def _announce(site_id: int, recipient_id: int, email: str, thread_id: int) -> None:
    """A confirmed address was subscribed to a page it did not choose by
    confirming: queue the notice with its undo, or past the mailbox's notices
    of the day, unsubscribe the page (never subscribed without a word)."""
    if mailbox.claim(email, mailbox.NOTICE):
        queue(NOTICE, site_id, recipient_id=recipient_id, data={"t": thread_id})
    else:
        unsubscribe_thread(recipient_id, thread_id)


def announce_unnamed(recipient, named: set[int]) -> None:
    """After *recipient* confirmed: each active page whose subscription id is
    not in *named* (the pages its confirmation mail named) is announced, as a
    page added to a confirmed address is (no commit)."""
    rows = db.session.connection().execute(
        sa.select(_subscriptions.c.id, _subscriptions.c.thread_id)
        .where(
            _subscriptions.c.recipient_id == recipient.id,
            _subscriptions.c.active.is_(True),
        )
        .order_by(_subscriptions.c.created_at, _subscriptions.c.id)
    )
    for subscription_id, thread_id in rows.all():
        if subscription_id not in named:
            _announce(recipient.site_id, recipient.id, recipient.email, thread_id)


def _subscribe_thread(recipient_id: int, thread_id: int, now) -> bool:
    """Subscribe the recipient to the thread; whether it was not before."""
    connection = db.session.connection()
    # RETURNING, not rowcount: drivers differ on an upsert's rowcount.
    inserted = connection.execute(
        _insert(_subscriptions)
        .values(recipient_id=recipient_id, thread_id=thread_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["recipient_id", "thread_id"])
        .returning(_subscriptions.c.id)
    ).first()
    if inserted is not None:
        return True
    return bool(
        connection.execute(
            sa.update(_subscriptions)
            .where(
                _subscriptions.c.recipient_id == recipient_id,
                _subscriptions.c.thread_id == thread_id,
                _subscriptions.c.active.is_(False),
            )
            .values(active=True)
        ).rowcount
    )


def unsubscribe_thread(recipient_id: int, thread_id: int) -> None:
    """The recipient gets no more mail about the thread (no commit)."""
    db.session.connection().execute(
        sa.update(_subscriptions)
        .where(
            _subscriptions.c.recipient_id == recipient_id,
            _subscriptions.c.thread_id == thread_id,
        )
        .values(active=False)
    )


def subscribed_recipient(site_id: int, email: str | None, thread_id: int):
    """The id of the confirmed, subscribed recipient *email* on the thread, or
    None."""
    if not email:
        return None
    return db.session.scalar(
        sa.select(_recipients.c.id)
        .join(_subscriptions, _subscriptions.c.recipient_id == _recipients.c.id)
        .where(
            _recipients.c.site_id == site_id,
            _recipients.c.email == email,
            _recipients.c.confirmed_at.is_not(None),
            _recipients.c.unsubscribed_at.is_(None),
            _subscriptions.c.thread_id == thread_id,
            _subscriptions.c.active.is_(True),
        )
    )


def cancel_pending(recipient_id: int, thread_id: int | None = None) -> int:
    """Fail the recipient's queued messages (of one thread, or all): an
    unsubscribe is honoured for mail already queued too. Returns how many."""
    where = [
        _outbox.c.recipient_id == recipient_id,
        _outbox.c.status == DeliveryStatus.PENDING.value,
    ]
    if thread_id is not None:
        where.append(
            _outbox.c.comment_id.in_(
                sa.select(Comment.id).where(Comment.thread_id == thread_id)
            )
        )
    return (
        db.session.connection()
        .execute(
            sa.update(_outbox)
            .where(*where)
            .values(status=DeliveryStatus.FAILED.value, last_error="unsubscribed")
        )
        .rowcount
    )

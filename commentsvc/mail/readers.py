"""What a reader does from a mail: confirm the address, unsubscribe from a
page or from the whole site; and the purge of addresses never confirmed."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import MailMessage, MailRecipient, MailSubscription, Site, utcnow
from . import links
from .outbox import cancel_pending


@dataclass(frozen=True)
class Outcome:
    site_name: str
    whole_site: bool = False
    # A confirmation link opened after the reader stopped all mail: it
    # changes nothing (the unsubscribe stands).
    unsubscribed: bool = False


def _recipient(payload: dict) -> MailRecipient:
    recipient = db.session.get(MailRecipient, payload.get("r"))
    if recipient is None:
        raise links.LinkInvalid  # purged since, or never ours
    return recipient


def _site_name(recipient: MailRecipient) -> str:
    return db.session.get(Site, recipient.site_id).name


def check_confirm(token: str) -> Outcome:
    """What a confirmation link is about, without changing anything.

    Raises:
        links.LinkExpired, links.LinkInvalid: see :func:`links.verify`.
    """
    payload = links.verify(links.CONFIRM, token)
    recipient = _recipient(payload)
    if payload.get("e") != recipient.email:
        raise links.LinkInvalid
    return Outcome(_site_name(recipient))


def confirm(token: str) -> Outcome:
    """Confirm the address the link was sent to (double opt-in).

    Raises:
        links.LinkExpired, links.LinkInvalid: see :func:`links.verify`.
    """
    payload = links.verify(links.CONFIRM, token)
    recipient = _recipient(payload)
    if payload.get("e") != recipient.email:
        raise links.LinkInvalid
    try:
        if recipient.confirmed_at is None:
            recipient.confirmed_at = utcnow()
            recipient.unsubscribed_at = None
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return Outcome(
        _site_name(recipient), unsubscribed=recipient.unsubscribed_at is not None
    )


def check_unsubscribe(token: str) -> Outcome:
    """What an unsubscribe link is about (never expires).

    Raises:
        links.LinkInvalid: not one of our links.
    """
    payload = links.verify(links.UNSUBSCRIBE, token, expires=False)
    recipient = _recipient(payload)
    return Outcome(_site_name(recipient), whole_site=payload.get("t") is None)


def unsubscribe(token: str) -> Outcome:
    """Stop mail to the link's address about its page (or the whole site), at
    once: queued mail for it is cancelled in the same transaction.

    Raises:
        links.LinkInvalid: not one of our links.
    """
    payload = links.verify(links.UNSUBSCRIBE, token, expires=False)
    recipient = _recipient(payload)
    outcome = Outcome(_site_name(recipient), whole_site=payload.get("t") is None)
    thread_id = payload.get("t")
    try:
        if thread_id is None:
            recipient.unsubscribed_at = recipient.unsubscribed_at or utcnow()
        else:
            db.session.execute(
                sa.update(MailSubscription)
                .where(
                    MailSubscription.recipient_id == recipient.id,
                    MailSubscription.thread_id == thread_id,
                )
                .values(active=False)
            )
        cancel_pending(recipient.id, thread_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return outcome


def purge_unconfirmed(older_than: timedelta) -> int:
    """Delete addresses (and their subscriptions and queued mail) never
    confirmed within *older_than* of being given; returns how many."""
    try:
        ids = list(
            db.session.scalars(
                sa.select(MailRecipient.id).where(
                    MailRecipient.confirmed_at.is_(None),
                    MailRecipient.created_at < utcnow() - older_than,
                )
            )
        )
        if ids:
            db.session.execute(
                sa.delete(MailMessage).where(MailMessage.recipient_id.in_(ids))
            )
            db.session.execute(
                sa.delete(MailSubscription).where(
                    MailSubscription.recipient_id.in_(ids)
                )
            )
            db.session.execute(
                sa.delete(MailRecipient).where(MailRecipient.id.in_(ids))
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(ids)

"""What a reader does from a mail: confirm the address, unsubscribe from a
page or from the whole site, start mail again after stopping it all; and the
purge of addresses never confirmed.

Every reader link names its address row and carries a keyed hash of the
address (:func:`link_token`): a link acts only on the address it was mailed
to, never on another reader who later gets the same row id (SQLite reuses the
ids of deleted rows). Links signed before the hash existed are taken only if
signed after their row was made.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    MailMessage,
    MailRecipient,
    MailSubscription,
    Site,
    as_utc,
    utcnow,
)
from . import links, mailbox
from .outbox import announce_unnamed, cancel_pending, unsubscribe_thread

# A confirmation link's key for the subscription ids its mail named.
PAGES = "s"


@dataclass(frozen=True)
class Outcome:
    site_name: str
    whole_site: bool = False
    # A confirmation link opened after the reader stopped all mail: it
    # changes nothing (the unsubscribe stands).
    unsubscribed: bool = False
    # After "stop all mail": the signed link that starts mail again.
    resume_token: str | None = None


def link_token(salt: str, recipient: MailRecipient, **extra) -> str:
    """A signed link of kind *salt* for *recipient* (bound to its address)."""
    payload = {"r": recipient.id, "h": mailbox.address_tag(recipient.email)}
    return links.sign(salt, {**payload, **extra})


def _recipient(salt: str, token: str, expires: bool = True):
    """The link's payload and the address it was mailed to.

    Raises:
        links.LinkExpired, links.LinkInvalid: see :func:`links.verify`; also
            LinkInvalid for an address purged or erased since.
    """
    payload, issued = links.verify_issued(salt, token, expires)
    recipient = db.session.get(MailRecipient, payload.get("r"))
    if recipient is None:
        raise links.LinkInvalid  # purged since, or never ours
    if "h" in payload:
        bound = mailbox.tag_matches(payload["h"], recipient.email)
    elif "e" in payload:  # a confirmation link of before the hash
        bound = payload["e"] == recipient.email
    else:  # an unsubscribe link of before the hash: not older than its row
        bound = issued >= as_utc(recipient.created_at).replace(microsecond=0)
    if not bound:
        raise links.LinkInvalid
    return payload, recipient


def _site_name(recipient: MailRecipient) -> str:
    return db.session.get(Site, recipient.site_id).name


def check_confirm(token: str) -> Outcome:
    """What a confirmation link is about, without changing anything.

    Raises:
        links.LinkExpired, links.LinkInvalid: see :func:`links.verify`.
    """
    _, recipient = _recipient(links.CONFIRM, token)
    return Outcome(_site_name(recipient))


def named_pages(payload: dict) -> set[int]:
    """The subscription ids a confirmation link covers: the pages its mail
    named (none for a link of before mails named them)."""
    named = payload.get(PAGES)
    if not isinstance(named, list):
        return set()
    return {n for n in named if isinstance(n, int) and not isinstance(n, bool)}


def confirm(token: str) -> Outcome:
    """Confirm the address the link was sent to (double opt-in). It covers the
    pages its mail named: every other page the address is subscribed to (a
    stranger may have ticked the box since) gets the notice with its undo.

    Raises:
        links.LinkExpired, links.LinkInvalid: see :func:`links.verify`.
    """
    payload, recipient = _recipient(links.CONFIRM, token)
    try:
        # Conditional: of two clicks at once only one confirms and announces;
        # the row stays locked against a subscription made meanwhile.
        confirming = db.session.execute(
            sa.update(MailRecipient)
            .where(
                MailRecipient.id == recipient.id,
                MailRecipient.confirmed_at.is_(None),
            )
            .values(confirmed_at=utcnow(), unsubscribed_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(recipient)
        if confirming:
            announce_unnamed(recipient, named_pages(payload))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return _outcome(recipient, unsubscribed=recipient.unsubscribed_at is not None)


def _outcome(recipient: MailRecipient, **values) -> Outcome:
    """What a page about *recipient* says; after "stop all mail", with the
    link that starts it again."""
    resume = None
    if recipient.unsubscribed_at is not None:
        resume = link_token(links.RESUME, recipient)
    return Outcome(_site_name(recipient), resume_token=resume, **values)


def check_unsubscribe(token: str) -> Outcome:
    """What an unsubscribe link is about (never expires).

    Raises:
        links.LinkInvalid: not one of our links.
    """
    payload, recipient = _recipient(links.UNSUBSCRIBE, token, expires=False)
    return _outcome(recipient, whole_site=payload.get("t") is None)


def unsubscribe(token: str) -> Outcome:
    """Stop mail to the link's address about its page (or the whole site), at
    once: queued mail for it is cancelled in the same transaction.

    Raises:
        links.LinkInvalid: not one of our links.
    """
    payload, recipient = _recipient(links.UNSUBSCRIBE, token, expires=False)
    thread_id = payload.get("t")
    try:
        if thread_id is None:
            recipient.unsubscribed_at = recipient.unsubscribed_at or utcnow()
        else:
            unsubscribe_thread(recipient.id, thread_id)
        cancel_pending(recipient.id, thread_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return _outcome(recipient, whole_site=thread_id is None)


def check_resume(token: str) -> Outcome:
    """What a "mail me again" link is about, without changing anything.

    Raises:
        links.LinkExpired, links.LinkInvalid: see :func:`links.verify`.
    """
    _, recipient = _recipient(links.RESUME, token)
    return Outcome(_site_name(recipient))


def resume(token: str) -> Outcome:
    """Undo "stop all mail" for the link's address: its pages' subscriptions
    hold again. Only a link mailed to the address (or shown after using one)
    does this; ticking the box with a comment does not.

    Raises:
        links.LinkExpired, links.LinkInvalid: see :func:`links.verify`.
    """
    _, recipient = _recipient(links.RESUME, token)
    try:
        recipient.unsubscribed_at = None
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return Outcome(_site_name(recipient))


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
        mailbox.purge_past_days()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(ids)

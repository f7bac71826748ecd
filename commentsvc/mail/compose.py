"""Rendering an outbox row into a mail, from what is stored now.

A row whose reason has passed renders to nothing (:class:`Skip`): a comment
already decided, a moderator deactivated or taken off the site, an address
unsubscribed or not (yet) confirmed. So an unsubscribe is honoured even for
mail queued before it.
"""

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from flask import current_app, render_template

from ..accounts.email import LIFETIME as EMAIL_LINK_LIFETIME
from ..accounts.email import link_token as email_link_token
from ..comments.reasons import explain_waiting
from ..extensions import db
from ..models import (
    Comment,
    CommentRevision,
    CommentStatus,
    MailMessage,
    MailRecipient,
    MailSubscription,
    Moderator,
    RevisionStatus,
    Role,
    SignInLink,
    Site,
    Thread,
    as_utc,
    moderator_sites,
    utcnow,
)
from ..moderation.accounts import link_binding
from . import headers, links, outbox
from .readers import PAGES, link_token
from .reported import reported_view
from .strings import STRINGS, t

DECISIONS = ("approve", "spam", "reject")
# A confirmation names at most this many pages (and says how many more).
PAGES_NAMED = 5


class Skip(Exception):
    """Nothing to send any more; the reason is the message."""


def _may_moderate(moderator: Moderator | None, site_id: int) -> bool:
    if moderator is None or not moderator.active or not moderator.email:
        return False
    if moderator.role == Role.ADMIN:
        return True
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                moderator_sites.c.moderator_id == moderator.id,
                moderator_sites.c.site_id == site_id,
            )
        )
        > 0
    )


def decision_links(comment: Comment, moderator: Moderator) -> dict[str, str]:
    """The signed Approve/Spam/Reject links of *comment* for *moderator*."""
    return {
        action: links.external_url(
            "mail.decide",
            token=links.sign(
                links.DECIDE,
                {
                    "c": comment.id,
                    "v": comment.version,
                    "m": moderator.id,
                    "a": action,
                    # Revoked by end-sessions and a password change.
                    **link_binding(moderator),
                },
            ),
        )
        for action in DECISIONS
    }


def _comment_view(comment: Comment, moderator: Moderator) -> dict:
    return {
        "comment": comment,
        "thread": comment.thread,
        "why": explain_waiting(comment),
        "links": decision_links(comment, moderator),
    }


def _moderator_mail(row: MailMessage, site: Site) -> tuple[str, str, dict]:
    moderator = db.session.get(Moderator, row.moderator_id)
    if not _may_moderate(moderator, row.site_id):
        raise Skip("the moderator may no longer moderate this site")
    common = {
        "days": current_app.config["MAIL_LINK_DAYS"],
        "settings_url": links.external_url("moderation.mail_settings"),
    }
    if row.kind == outbox.MODERATOR_REPORTED:
        found = reported_view(row.comment_id, site)
        if found is None:
            raise Skip("its reports were settled already")
        return moderator.email, found[0], {**common, **found[1]}
    if row.kind == outbox.MODERATOR_EDIT:
        return _edit_mail(row, site, moderator, common)
    if row.kind == outbox.MODERATOR_COMMENT:
        comment = db.session.get(Comment, row.comment_id)
        if comment is None or comment.status != CommentStatus.PENDING:
            raise Skip("the comment was decided already")
        subject = t("subject_moderator_comment", site=site.name, author=comment.author)
        return moderator.email, subject, {**common, **_comment_view(comment, moderator)}
    since = datetime.fromisoformat(row.data["since"])
    until = datetime.fromisoformat(row.data["until"])
    comments = list(
        db.session.scalars(
            sa.select(Comment)
            .where(
                Comment.site_id == row.site_id,
                Comment.status == CommentStatus.PENDING,
                Comment.created_at >= since,
                Comment.created_at < until,
            )
            .order_by(Comment.created_at, Comment.id)
            .limit(100)
        )
    )
    if not comments:
        raise Skip("every comment of the digest was decided already")
    subject = t("subject_moderator_digest", site=site.name, count=len(comments))
    return (
        moderator.email,
        subject,
        {**common, "items": [_comment_view(c, moderator) for c in comments]},
    )


def _edit_mail(row: MailMessage, site: Site, moderator, common: dict):
    """A published comment's edit awaiting a decision: old and new text, and
    the queue (where it is decided, seeing both)."""
    comment = db.session.get(Comment, row.comment_id)
    revision = db.session.scalar(
        sa.select(CommentRevision)
        .where(
            CommentRevision.comment_id == row.comment_id,
            CommentRevision.status == RevisionStatus.PENDING,
        )
        .order_by(CommentRevision.id.desc())
    )
    if comment is None or revision is None or comment.status != CommentStatus.APPROVED:
        raise Skip("the edit was decided already")
    subject = t("subject_moderator_edit", site=site.name, author=comment.author)
    queue_url = links.external_url("moderation.queue", site=site.slug)
    context = {"comment": comment, "thread": comment.thread, "revision": revision}
    return moderator.email, subject, {**common, **context, "queue_url": queue_url}


def _reader_mail(row: MailMessage, site: Site) -> tuple[str, str, dict]:
    recipient = db.session.get(MailRecipient, row.recipient_id)
    if recipient is None or recipient.unsubscribed_at is not None:
        raise Skip("unsubscribed")
    unsubscribe_all = links.external_url(
        "mail.unsubscribe", token=link_token(links.UNSUBSCRIBE, recipient)
    )
    context = {"unsubscribe_all": unsubscribe_all}
    if row.kind == outbox.CONFIRM:
        if recipient.confirmed_at is not None:
            raise Skip("confirmed already")
        _confirm_pages(recipient, context)
        return recipient.email, t("subject_confirm", site=site.name), context
    if recipient.confirmed_at is None:
        raise Skip("the address is not confirmed")
    if row.kind == outbox.NOTICE:
        return _notice(row, site, recipient, context)
    comment = db.session.get(Comment, row.comment_id)
    if comment is None or comment.status != CommentStatus.APPROVED:
        raise Skip("the comment is no longer published")
    if not _subscribed(recipient, comment.thread_id):
        raise Skip("unsubscribed from the page")
    context.update(
        comment=comment,
        thread=comment.thread,
        title=comment.thread.title or comment.thread.url,
        unsubscribe_thread=_unsubscribe_thread_url(recipient, comment.thread_id),
    )
    if row.kind == outbox.REPLY:
        subject = t("subject_reply", site=site.name, author=comment.author)
    else:
        subject = t("subject_approved", site=site.name)
    return recipient.email, subject, context


def _sign_in_mail(row: MailMessage, site: Site) -> tuple[str, str, dict]:
    """A reader's one-time sign-in link, unless it was used or expired since."""
    link = db.session.get(SignInLink, row.data.get("l"))
    if link is None or link.used_at is not None:
        raise Skip("the link was used or forgotten")
    if as_utc(link.expires_at) <= utcnow():
        raise Skip("the link expired before it could be sent")
    token = email_link_token(link.id, row.data.get("k", ""))
    url = links.external_url("auth.email_link", site_slug=site.slug, token=token)
    minutes = int(EMAIL_LINK_LIFETIME.total_seconds() // 60)
    context = {"sign_in_url": url, "minutes": minutes, "address": link.email}
    return link.email, t("subject_sign_in", site=site.name), context


def _confirm_pages(recipient: MailRecipient, context: dict) -> None:
    """The pages a confirmation names (the newest PAGES_NAMED of the address's
    pages now, and how many more) and its link, which covers those only: a
    page it does not name gets a notice with an undo once confirmed."""
    active = (
        MailSubscription.recipient_id == recipient.id,
        MailSubscription.active.is_(True),
    )
    named = db.session.execute(
        sa.select(MailSubscription.id, Thread)
        .join(Thread, Thread.id == MailSubscription.thread_id)
        .where(*active)
        .order_by(MailSubscription.created_at.desc(), MailSubscription.id.desc())
        .limit(PAGES_NAMED)
    ).all()
    count = db.session.scalar(sa.select(sa.func.count()).where(*active))
    token = link_token(links.CONFIRM, recipient, **{PAGES: [n.id for n in named]})
    context.update(
        confirm_url=links.external_url("mail.confirm", token=token),
        pages=[n.Thread for n in named],
        more=max(count - len(named), 0),
    )


def _subscribed(recipient: MailRecipient, thread_id: int) -> bool:
    return bool(
        db.session.scalar(
            sa.select(MailSubscription.active).where(
                MailSubscription.recipient_id == recipient.id,
                MailSubscription.thread_id == thread_id,
            )
        )
    )


def _unsubscribe_thread_url(recipient: MailRecipient, thread_id: int) -> str:
    token = link_token(links.UNSUBSCRIBE, recipient, t=thread_id)
    return links.external_url("mail.unsubscribe", token=token)


def _notice(row, site, recipient, context) -> tuple[str, str, dict]:
    """ "You will now get replies on <page>", with its one-click undo."""
    thread = db.session.get(Thread, row.data.get("t"))
    if thread is None or not _subscribed(recipient, thread.id):
        raise Skip("unsubscribed from the page")
    title = thread.title or thread.url
    context.update(
        thread=thread,
        title=title,
        unsubscribe_thread=_unsubscribe_thread_url(recipient, thread.id),
    )
    return recipient.email, t("subject_notice", site=site.name, title=title), context


def compose(row: MailMessage) -> EmailMessage:
    """The mail *row* stands for, rendered now.

    Raises:
        Skip: there is nothing to send any more.
    """
    site = db.session.get(Site, row.site_id)
    if row.kind in outbox.READER_KINDS:
        to, subject, context = _reader_mail(row, site)
    elif row.kind == outbox.SIGN_IN:
        to, subject, context = _sign_in_mail(row, site)
    else:
        to, subject, context = _moderator_mail(row, site)
    subject = headers.header_text(subject)
    context.update(site=site, s=STRINGS, t=t, subject=subject)
    try:
        message = headers.new_message(current_app.config["MAIL_FROM"], to, subject)
    except headers.BadAddress:
        raise Skip("the address cannot be written in a header") from None
    message["Date"] = format_datetime(as_utc(utcnow()))
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"
    if row.kind in outbox.READER_KINDS:
        # RFC 8058: a mail client's "Unsubscribe" POSTs to the URL at once.
        message["List-Unsubscribe"] = f"<{context['unsubscribe_all']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        name = headers.header_text(site.name)
        message["List-Id"] = f"{name} <{site.slug}.{_domain()}>"
    message.set_content(render_template(f"mail/{row.kind}.txt", **context))
    message.add_alternative(
        render_template(f"mail/{row.kind}.html", **context), subtype="html"
    )
    return message


def _domain() -> str:
    return parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "local"

"""Mail to moderators and readers: the door the service layer calls.

When each phase runs, and why:
- **In the transaction of the change** (a post, a decision): :func:`comment_posted`
  and :func:`comment_decided` write outbox rows, nothing else — never a send
  inside a request, and the change and its mail are stored together or not at all.
- **In the worker** (``flask mail worker``, also run by ``webhooks worker``):
  rows are claimed with a lease, rendered from what is stored *now* (a comment
  decided meanwhile, or an address unsubscribed, sends nothing) and sent over
  SMTP, retried with backoff; digests are gathered there too.
- **On a link's page** (``/mail/…``): a GET only shows; a POST decides,
  confirms or unsubscribes.
Without ``MAIL_URL`` nothing here does anything.
"""

from flask import current_app

from ..extensions import db
from ..models import Comment, CommentStatus, Site
from . import outbox


def enabled() -> bool:
    return bool(current_app.config.get("MAIL_URL"))


def comment_posted(
    site_id: int,
    comment_id: int,
    status: CommentStatus,
    thread_id: int,
    parent_id: int | None,
    email: str | None,
    notify: bool,
) -> bool:
    """Queue what a new comment causes, in the caller's transaction: a mail to
    each moderator who wants one per pending comment; a reader's subscription
    (and its confirmation); for a comment published at once, what its approval
    causes. Returns whether anything was queued."""
    if not enabled():
        return False
    queued = False
    if status == CommentStatus.PENDING:
        for moderator_id in outbox.moderators_to_mail(site_id):
            outbox.queue(
                outbox.MODERATOR_COMMENT,
                site_id,
                moderator_id=moderator_id,
                comment_id=comment_id,
            )
            queued = True
    if notify and email and status in (CommentStatus.PENDING, CommentStatus.APPROVED):
        outbox.subscribe(site_id, email, thread_id)
        queued = True
    if status == CommentStatus.APPROVED:
        queued |= _published(site_id, comment_id, thread_id, parent_id, email)
    return queued


def comment_reported(site_id: int, comment_id: int) -> bool:
    """Queue a mail to each moderator who wants one when readers' reports of a
    comment reach the site's threshold, in the caller's transaction. Returns
    whether anything was queued."""
    if not enabled():
        return False
    queued = False
    for moderator_id in outbox.moderators_to_mail(site_id, reports=True):
        outbox.queue(
            outbox.MODERATOR_REPORTED,
            site_id,
            moderator_id=moderator_id,
            comment_id=comment_id,
        )
        queued = True
    return queued


def comment_decided(comment, from_status: CommentStatus, to_status) -> bool:
    """Queue what a decision causes, in the caller's transaction: when a comment
    is approved, a mail to the subscribed author of the comment it replies to
    (and, where the site says so, to its own subscribed author). Returns whether
    anything was queued."""
    if not enabled() or to_status != CommentStatus.APPROVED:
        return False
    if from_status == CommentStatus.APPROVED:
        return False
    return _published(
        comment.site_id, comment.id, comment.thread_id, comment.parent_id, comment.email
    )


def _published(site_id, comment_id, thread_id, parent_id, email) -> bool:
    """Queue the mails of a comment that was just published."""
    queued = False
    parent = db.session.get(Comment, parent_id) if parent_id is not None else None
    parent_email = parent.email if parent is not None else None
    # Replying to yourself sends you nothing.
    if parent_email and parent_email != email:
        recipient = outbox.subscribed_recipient(site_id, parent_email, thread_id)
        if recipient is not None:
            outbox.queue(
                outbox.REPLY, site_id, recipient_id=recipient, comment_id=comment_id
            )
            queued = True
    if db.session.get(Site, site_id).mail_own_approval:
        recipient = outbox.subscribed_recipient(site_id, email, thread_id)
        if recipient is not None:
            outbox.queue(
                outbox.APPROVED, site_id, recipient_id=recipient, comment_id=comment_id
            )
            queued = True
    return queued

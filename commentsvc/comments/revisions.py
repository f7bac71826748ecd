"""Revisions: an author's edit of a published comment waits for a moderator.

Published means a moderator approved these words. So an edit of a published
comment (that the site's policy does not publish at once) is stored beside it
as a pending revision: readers keep the approved text, the queue shows the
revision (old beside new) until a moderator approves it (the text is replaced
through commentsvc.comments.moderation: audited, ``comment.edited``, caches
dropped) or rejects it (the approved text stays). A second edit replaces the
pending revision's text, and its version, so that a moderator approves only
the words they saw.
"""

import difflib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import Markup, escape

from .. import mail
from ..extensions import db
from ..mail import outbox as mail_outbox
from ..mail.wake import wake_mail_workers
from ..models import (
    Comment,
    CommentRevision,
    CommentStatus,
    ModerationEvent,
    Moderator,
    RevisionStatus,
    utcnow,
)
from ..spam import rules
from ..webhooks.outbox import COMMENT_EDITED, record_comment_event
from . import moderation
from .access import NotAllowed, can_moderate

AWAITING = "edited by its author: the edit awaits moderation"
APPROVED = "edit approved"
REJECTED = "edit rejected"


class UnknownRevision(LookupError):
    """No pending revision with that id."""


class RevisionConflict(Exception):
    """The revision or its comment changed since the moderator saw it; the
    message says how, for the moderator."""


@dataclass(frozen=True)
class RevisionDecision:
    comment: Comment
    approved: bool


def _pending(comment_ids):
    return sa.select(CommentRevision).where(
        CommentRevision.comment_id.in_(comment_ids),
        CommentRevision.status == RevisionStatus.PENDING,
    )


def pending_for(comment_ids) -> dict[int, CommentRevision]:
    """The pending revision of each of *comment_ids* that has one (one query)."""
    ids = list(comment_ids)
    if not ids:
        return {}
    found = db.session.scalars(_pending(ids).order_by(CommentRevision.id))
    return {r.comment_id: r for r in found}


# The most edits awaiting moderation the Pending tab gathers at once (they are
# few: an edit window is minutes long, and each comment has one).
MAX_AWAITING = 1000


def awaiting_filter():
    """A condition on Comment: published, with an edit waiting for a moderator
    (it belongs in the Pending tab and its count); None when no edit waits.

    The ids are read first (a small indexed query), so that the queue's query
    stays ``status = 'pending' OR id IN (…)``, two index scans, where a
    subquery in the OR would make PostgreSQL test every comment."""
    ids = list(
        db.session.scalars(
            sa.select(CommentRevision.comment_id)
            .where(CommentRevision.status == RevisionStatus.PENDING)
            .order_by(CommentRevision.id)
            .limit(MAX_AWAITING)
        )
    )
    if not ids:
        return None
    return sa.and_(Comment.status == CommentStatus.APPROVED, Comment.id.in_(ids))


def discard_pending(comment_id: int) -> None:
    """Drop the comment's pending revision, in the caller's transaction: the
    edit that follows replaces the text itself (a pending comment's, or a
    published one the policy publishes at once)."""
    db.session.execute(
        sa.delete(CommentRevision).where(
            CommentRevision.comment_id == comment_id,
            CommentRevision.status == RevisionStatus.PENDING,
        )
    )


def propose(comment: Comment, body: str, body_html: str, signals: dict) -> None:
    """Store *body* as *comment*'s pending revision (replacing one already
    pending), with an audit row and the mail to moderators who want one per
    pending comment; commits.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed; nothing changed.
    """
    now = utcnow()
    values = {"body": body, "body_html": body_html, "signals": signals}
    try:
        replaced = db.session.execute(
            sa.update(CommentRevision)
            .where(
                CommentRevision.comment_id == comment.id,
                CommentRevision.status == RevisionStatus.PENDING,
            )
            .values(version=CommentRevision.version + 1, created_at=now, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not replaced:
            db.session.add(
                CommentRevision(
                    site_id=comment.site_id,
                    comment_id=comment.id,
                    status=RevisionStatus.PENDING,
                    version=1,
                    created_at=now,
                    **values,
                )
            )
        _audit(comment, None, AWAITING, now)
        mailed = _tell_moderators(comment) if not replaced else False
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if mailed:
        wake_mail_workers()


def _audit(comment: Comment, moderator_id: int | None, reason: str, now) -> None:
    """The audit row of a step on the comment's revision (its status stays)."""
    db.session.add(
        ModerationEvent(
            site_id=comment.site_id,
            comment_id=comment.id,
            moderator_id=moderator_id,
            from_status=comment.status,
            to_status=comment.status,
            reason=reason,
            created_at=now,
        )
    )


def _tell_moderators(comment: Comment) -> bool:
    # As for a new pending comment: those who want a mail for each one. A
    # second edit replaces the first: the mail (rendered when sent) shows it.
    if not mail.enabled():
        return False
    queued = False
    for moderator_id in mail_outbox.moderators_to_mail(comment.site_id):
        mail_outbox.queue(
            mail_outbox.MODERATOR_EDIT,
            comment.site_id,
            moderator_id=moderator_id,
            comment_id=comment.id,
        )
        queued = True
    return queued


def decide(
    moderator: Moderator,
    revision_id: int,
    version: int,
    approve: bool,
    reason: str | None = None,
) -> RevisionDecision:
    """Approve (the comment's published text becomes the revision's) or reject
    (the approved text stays) the revision *revision_id* at the *version* the
    moderator saw. One transaction with its audit row (and, approved, the
    ``comment.edited`` event); listings dropped after the commit.

    Raises:
        UnknownRevision: no such revision.
        NotAllowed: the moderator does not moderate its site.
        RevisionConflict: it was replaced or decided meanwhile, or its comment
            is no longer published.
    """
    reason = (reason or "").strip()[:480] or None
    effects = moderation.Effects()
    try:
        revision = db.session.get(CommentRevision, revision_id)
        if revision is None:
            raise UnknownRevision(revision_id)
        if not can_moderate(moderator, revision.site_id):
            raise NotAllowed(revision.comment_id)
        comment = revision.comment
        _check_current(revision, version, comment)
        now = utcnow()
        done = db.session.execute(
            sa.update(CommentRevision)
            .where(
                CommentRevision.id == revision.id,
                CommentRevision.version == version,
                CommentRevision.status == RevisionStatus.PENDING,
            )
            .values(
                status=RevisionStatus.APPROVED if approve else RevisionStatus.REJECTED,
                decided_at=now,
                decided_by_id=moderator.id,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise RevisionConflict(_CHANGED)
        said = f"{APPROVED if approve else REJECTED}{': ' + reason if reason else ''}"
        if approve:
            _publish(moderator, comment, revision, said, now, effects)
        else:
            _audit(comment, moderator.id, said, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    moderation.after_commit(effects)
    db.session.refresh(comment)
    return RevisionDecision(comment, approve)


_CHANGED = "The author changed this edit meanwhile: the card shows it as it is now."


def _check_current(revision: CommentRevision, version: int, comment: Comment):
    if revision.status != RevisionStatus.PENDING:
        by = revision.decided_by.username if revision.decided_by else "someone"
        raise RevisionConflict(f"This edit was already {revision.status} by {by}.")
    if revision.version != version:
        raise RevisionConflict(_CHANGED)
    if comment.status != CommentStatus.APPROVED:
        raise RevisionConflict(
            f"{moderation.describe(comment)} is {comment.status.value} now: "
            "its edit is no longer to decide."
        )


def _publish(moderator, comment, revision, reason, now, effects) -> None:
    values = {
        "body": revision.body,
        "body_html": revision.body_html,
        "body_hash": rules.body_digest(revision.body),
        "edited_at": revision.created_at,
        "signals": {**(comment.signals or {}), "edit": revision.signals},
        "moderated_at": now,
        "moderated_by_id": moderator.id,
    }
    site_slug, thread_key = comment.site.slug, comment.thread.key
    done = moderation.change_status(
        moderator,
        comment,
        comment.version,
        CommentStatus.APPROVED,
        values,
        reason,
        now,
        effects,
    )
    if done is None:
        raise RevisionConflict(
            f"{moderation.describe(comment)} changed meanwhile: please look again."
        )
    record_comment_event(comment, COMMENT_EDITED)
    # The text readers see changed: its listings are dropped after the commit.
    effects.threads.add((site_slug, thread_key))


_WORDS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> tuple[Markup, Markup]:
    """*old* and *new* as escaped text, the words only one of them has marked
    (``<del>`` in the old, ``<ins>`` in the new), for a moderator to read side
    by side."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    left, right = [], []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        was, now = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(was)
            right.append(now)
            continue
        if was:
            left.append(Markup("<del>{}</del>").format(was))
        if now:
            right.append(Markup("<ins>{}</ins>").format(now))
    return Markup("").join(left), Markup("").join(right)

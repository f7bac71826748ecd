"""Moderation decisions: the one place a comment's status changes.

Each change is a conditional update on the version the moderator saw, in one
transaction with its audit row and its webhook outbox rows. Two moderators acting
on one comment at once: one wins, the other gets a conflict naming the winner.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from .. import learning, mail
from ..extensions import db
from ..mail.wake import wake_mail_workers
from ..models import (
    Comment,
    CommentReport,
    CommentStatus,
    ModerationEvent,
    Moderator,
    utcnow,
)
from ..spam import akismet_check
from ..webhooks.outbox import STATUS_EVENTS, record_comment_event
from ..webhooks.wake import wake_workers
from .access import NotAllowed, UnknownComment, allowed_site_ids
from .cache import invalidate
from .threads import approved_title, forget_cached, set_title

ACTIONS = {
    "approve": CommentStatus.APPROVED,
    "reject": CommentStatus.REJECTED,
    "spam": CommentStatus.SPAM,
    "delete": CommentStatus.DELETED,
    "pending": CommentStatus.PENDING,
}
MAX_BULK = 200


@dataclass(frozen=True)
class Target:
    """A comment and the version of it the moderator saw."""

    comment_id: int
    version: int


@dataclass
class Conflict:
    comment_id: int
    status: CommentStatus
    moderated_by: str | None
    # Who wrote it and where: a moderator knows a comment by these, not its id.
    author: str | None = None
    article: str | None = None

    def message(self) -> str:
        by = f" by {self.moderated_by}" if self.moderated_by else ""
        return f"{describe(self)} was already {self.status.value}{by}."


def describe(comment) -> str:
    """A comment as a moderator knows it: "The comment by Alice on “Title”"
    (a Comment or a Conflict)."""
    author = getattr(comment, "author", None) or "an anonymous reader"
    article = getattr(comment, "article", None)
    if article is None and getattr(comment, "thread", None) is not None:
        article = _article(comment)
    where = f" on \u201c{article}\u201d" if article else ""
    return f"The comment by {author}{where}"


@dataclass
class Decision:
    changed: list[int] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    # What changed, comment by comment (see restore).
    previous: list = field(default_factory=list)


@dataclass(frozen=True)
class Previous:
    """What a decision changed on one comment, for its undo: the version it
    left the comment at and the state before (status and who had decided)."""

    comment_id: int
    version: int
    from_status: CommentStatus
    to_status: CommentStatus
    moderated_at: datetime | None
    moderated_by_id: int | None


@dataclass
class Effects:
    """What a transaction of decisions leaves to do after its commit."""

    feedback: list = field(default_factory=list)
    threads: set = field(default_factory=set)
    retitled: set = field(default_factory=set)
    sites: set = field(default_factory=set)
    mailed: bool = False


def change_status(
    moderator: Moderator,
    comment: Comment,
    version: int,
    to_status: CommentStatus,
    values: dict,
    reason: str | None,
    now: datetime,
    effects: Effects,
    mail_readers: bool = True,
) -> Previous | None:
    """The one status change: a conditional update on *version* (keeping the
    status and the words decided), the audit row, the thread's title, the
    webhook event and (with *mail_readers*) the mail it causes, in the caller's
    transaction. Returns what it changed, or None when
    the comment changed since *version* (nothing written)."""
    from_status = comment.status
    before = (comment.moderated_at, comment.moderated_by_id)
    # The words decided are kept apart from the body: the learning filter
    # learns them, never an author's later edit (see learning.store).
    decided = {
        "decided_status": to_status,
        "decided_body": values.get("body", Comment.body),
    }
    result = db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment.id, Comment.version == version)
        .values(status=to_status, version=Comment.version + 1, **decided, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    db.session.expire(comment)
    db.session.add(
        ModerationEvent(
            site_id=comment.site_id,
            comment_id=comment.id,
            moderator_id=moderator.id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            created_at=now,
        )
    )
    if from_status != to_status:
        # A confirmation changes no listing and has no event to send.
        thread = comment.thread
        if CommentStatus.APPROVED in (from_status, to_status) and set_title(
            thread.id, approved_title(thread.id)
        ):
            # Before the event is recorded: it carries the new title.
            db.session.expire(thread)
            effects.retitled.add((comment.site.slug, thread.key))
        if to_status in STATUS_EVENTS:
            record_comment_event(comment, STATUS_EVENTS[to_status])
        if mail_readers:
            effects.mailed |= mail.comment_decided(comment, from_status, to_status)
        effects.threads.add((comment.site.slug, thread.key))
    lesson = akismet_check.feedback_for(comment, from_status, to_status)
    if lesson is not None:
        effects.feedback.append(lesson)
    effects.sites.add(comment.site_id)
    return Previous(comment.id, version + 1, from_status, to_status, *before)


def after_commit(effects: Effects) -> None:
    """What decisions leave for after their commit: wake the workers, drop the
    cached listings and titles they changed."""
    if effects.threads:
        wake_workers()
    if effects.mailed:
        wake_mail_workers()
    for site_slug, thread_key in effects.threads:
        invalidate(site_slug, thread_key)
    for site_slug, thread_key in effects.retitled:
        forget_cached(site_slug, thread_key)
    # The learning filter is taught by a worker: here only a wake-up.
    learning.decisions_made(effects.sites)
    # After the commit: Akismet's answer never holds up a decision.
    akismet_check.send_feedback(effects.feedback)


def load_for(moderator: Moderator, ids: list[int]) -> dict[int, Comment]:
    """The comments *ids*, all visible to *moderator*.

    Raises:
        UnknownComment: one does not exist.
        NotAllowed: one belongs to a site the moderator does not moderate.
    """
    comments = {
        c.id: c
        for c in db.session.scalars(sa.select(Comment).where(Comment.id.in_(ids)))
    }
    allowed = allowed_site_ids(moderator)  # once, not per comment
    for ident in ids:
        comment = comments.get(ident)
        if comment is None:
            raise UnknownComment(ident)
        if allowed is not None and comment.site_id not in allowed:
            raise NotAllowed(ident)
    return comments


def moderate(
    moderator: Moderator,
    targets: list[Target],
    to_status: CommentStatus,
    reason: str | None = None,
) -> Decision:
    """Move the *targets* to *to_status* (one comment or a bulk selection).

    Every target must be visible to the moderator, or nothing happens. A target
    whose version changed since the moderator saw it is a conflict and is left
    alone; the others change together, each with an audit row and a webhook event,
    in one transaction. A thread whose approved comments change takes the title
    offered by its latest approved comment. ``Decision.previous`` says what
    changed, for :func:`restore` (an undo).

    Raises:
        UnknownComment: a target does not exist.
        NotAllowed: a target belongs to a site the moderator does not moderate.
        ValueError: too many targets at once.
    """
    if len(targets) > MAX_BULK:
        raise ValueError(f"At most {MAX_BULK} comments at once.")
    reason = (reason or "").strip()[:500] or None
    decision = Decision()
    effects = Effects()
    try:
        comments = load_for(moderator, [t.comment_id for t in targets])
        now = utcnow()
        values = {"moderated_at": now, "moderated_by_id": moderator.id}
        for target in dict.fromkeys(targets):
            comment = comments[target.comment_id]
            if (
                comment.version == target.version
                and comment.status == to_status
                and comment.moderated_at is not None
            ):
                continue  # already where a moderator put it
            # Where a rule or the filter put it, the same status from a
            # moderator is a confirmation: a decision the filter learns from,
            # with its audit row, but no status change to announce.
            done = change_status(
                moderator,
                comment,
                target.version,
                to_status,
                values,
                reason,
                now,
                effects,
            )
            if done is None:
                db.session.expire(comment)
                decision.conflicts.append(conflict_of(comment))
                continue
            decision.changed.append(comment.id)
            decision.previous.append(done)
        if decision.changed:
            _settle_reports(decision.changed, now, moderator)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if decision.changed:
        after_commit(effects)
    return decision


def _settle_reports(comment_ids: list[int], now: datetime, moderator) -> None:
    # A moderator has decided: the comment's open reports are settled (they
    # leave the Reported tab; new ones count afresh).
    db.session.execute(
        sa.update(CommentReport)
        .where(
            CommentReport.comment_id.in_(comment_ids),
            CommentReport.resolved_at.is_(None),
        )
        .values(resolved_at=now, resolved_by_id=moderator.id)
    )


def change_by_system(
    comment_id: int,
    version: int,
    to_status: CommentStatus,
    reason: str,
    event_type: str | None = None,
    values: dict | None = None,
) -> bool:
    """Move a comment to *to_status*, storing *values* with it, for no
    moderator: readers' reports, its author's edit or deletion.

    A conditional update on the *version* the caller read; the audit row
    (moderator "system", *reason*), the webhook event *event_type* if given and
    the new status's event when the status changes, and the thread's title in the
    same transaction; read caches invalidated after the commit. Returns False,
    changing nothing, when the comment changed in between.

    Raises:
        UnknownComment: no such comment.
        sqlalchemy.exc.SQLAlchemyError: the database failed; nothing changed.
    """
    try:
        comment = db.session.get(Comment, comment_id)
        if comment is None:
            raise UnknownComment(comment_id)
        from_status = comment.status
        result = db.session.execute(
            sa.update(Comment)
            .where(Comment.id == comment_id, Comment.version == version)
            .values(status=to_status, version=Comment.version + 1, **(values or {}))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            return False
        db.session.expire(comment)
        db.session.add(
            ModerationEvent(
                site_id=comment.site_id,
                comment_id=comment_id,
                moderator_id=None,
                from_status=from_status,
                to_status=to_status,
                reason=reason,
                created_at=utcnow(),
            )
        )
        thread = comment.thread
        site_slug, thread_key = comment.site.slug, thread.key
        public = CommentStatus.APPROVED in (from_status, to_status)
        retitled = (
            from_status != to_status
            and public
            and set_title(thread.id, approved_title(thread.id))
        )
        if retitled:
            db.session.expire(thread)
        events = [event_type] if event_type else []
        if from_status != to_status and to_status in STATUS_EVENTS:
            events.append(STATUS_EVENTS[to_status])
        deliveries = sum(
            record_comment_event(comment, kind).deliveries
            for kind in dict.fromkeys(events)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if deliveries:
        wake_workers()
    if public:
        invalidate(site_slug, thread_key)
    if retitled:
        forget_cached(site_slug, thread_key)
    return True


def conflict_of(comment: Comment) -> Conflict:
    """Who decided *comment* meanwhile, as it now is, for the message."""
    db.session.refresh(comment)
    by = comment.moderated_by.username if comment.moderated_by else None
    return Conflict(comment.id, comment.status, by, comment.author, _article(comment))


def _article(comment: Comment) -> str:
    # Never the title a post offers: the first poster does not name a page.
    return comment.thread.title or comment.thread.key

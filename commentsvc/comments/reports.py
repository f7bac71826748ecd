"""Readers' reports of published comments, and the moderators' Reported tab.

A reader reports a comment once (by network and by the embed's browser token,
both kept only as keyed hashes); each report is a ``comment.reported`` webhook
event. When a comment's open reports reach the site's ``report_threshold`` it
goes back to Pending through commentsvc.comments.moderation (audited as the
system's, reason "reported") until a moderator decides. A moderator's decision
on the comment, or a dismissal, settles its open reports.
"""

import hashlib
import hmac
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Comment, CommentReport, CommentStatus, Moderator, Site, utcnow
from ..ratelimit import ip_bucket
from ..webhooks.outbox import COMMENT_REPORTED, comment_payload, record_event
from ..webhooks.wake import wake_workers
from .access import NotAllowed, UnknownComment, can_moderate
from .moderation import change_by_system

REASONS = ("spam", "abuse", "off_topic", "illegal")
REASON_LABELS = {
    "spam": "Spam",
    "abuse": "Abuse or harassment",
    "off_topic": "Off-topic",
    "illegal": "Illegal content",
}
# The audit trail's reason when reports unpublish a comment.
REPORTED = "reported"
MAX_EXPLANATION = 2000


@dataclass(frozen=True)
class ReaderReport:
    """A report as the API checked it."""

    reason: str
    explanation: str | None = None
    # The embed's random browser token (kept in localStorage), if it sent one.
    token: str | None = None


@dataclass(frozen=True)
class Filed:
    """What became of a report: counted (False for a reader's second report of
    the comment), and whether it sent the comment back to Pending."""

    counted: bool
    held: bool = False


def _digest(kind: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"report-{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _open_reports(comment_id: int):
    return sa.select(sa.func.count()).where(
        CommentReport.comment_id == comment_id, CommentReport.resolved_at.is_(None)
    )


def has_open_reports(comment_id: int) -> bool:
    """Whether readers' reports of the comment wait for a moderator."""
    return db.session.scalar(_open_reports(comment_id)) > 0


def file_report(site: Site, comment_id: int, report: ReaderReport, ip: str | None):
    """Store a reader's report of the published comment *comment_id* of *site*
    with its webhook event; at the site's threshold of open reports the
    comment goes back to Pending. A reader's second report of a comment is not
    counted (``Filed(counted=False)``).

    Raises:
        UnknownComment: no such published comment on this site.
        sqlalchemy.exc.SQLAlchemyError: the database failed; nothing stored.
    """
    comment = db.session.get(Comment, comment_id)
    if (
        comment is None
        or comment.site_id != site.id
        or comment.status != CommentStatus.APPROVED
    ):
        raise UnknownComment(comment_id)
    version = comment.version
    bucket = ip_bucket(ip, current_app.config["RATELIMIT_IPV6_PREFIX"])
    try:
        db.session.add(
            CommentReport(
                site_id=site.id,
                comment_id=comment_id,
                reason=report.reason,
                explanation=report.explanation,
                ip_hash=_digest("ip", bucket),
                token_hash=_digest("token", report.token) if report.token else None,
                created_at=utcnow(),
            )
        )
        db.session.flush()
        open_reports = db.session.scalar(_open_reports(comment_id))
        data = comment_payload(comment, comment.thread, comment.site.slug)
        data["report"] = {
            "reason": report.reason,
            "explanation": report.explanation,
            "open_reports": open_reports,
        }
        recorded = record_event(site.id, COMMENT_REPORTED, data)
        db.session.commit()
    except IntegrityError:
        # Already reported by this network or browser: one report per reader.
        db.session.rollback()
        return Filed(counted=False)
    except BaseException:
        db.session.rollback()
        raise
    if recorded.deliveries:
        wake_workers()
    held = False
    if open_reports >= site.report_threshold:
        held = change_by_system(comment_id, version, CommentStatus.PENDING, REPORTED)
    return Filed(counted=True, held=held)


def summaries(comment_ids: list[int]) -> dict[int, dict]:
    """The open reports of each comment: ``{"count", "reasons": {reason: n},
    "explanations": [text, ...]}``, for the Reported tab."""
    found: dict[int, dict] = {}
    if not comment_ids:
        return found
    rows = db.session.execute(
        sa.select(
            CommentReport.comment_id, CommentReport.reason, CommentReport.explanation
        )
        .where(
            CommentReport.comment_id.in_(comment_ids),
            CommentReport.resolved_at.is_(None),
        )
        .order_by(CommentReport.id)
    )
    for comment_id, reason, explanation in rows:
        entry = found.setdefault(
            comment_id, {"count": 0, "reasons": {}, "explanations": []}
        )
        entry["count"] += 1
        label = REASON_LABELS.get(reason, reason)
        entry["reasons"][label] = entry["reasons"].get(label, 0) + 1
        if explanation:
            entry["explanations"].append((label, explanation))
    return found


def reported_filter():
    """Comments with open reports (a condition for the queue's query)."""
    return Comment.id.in_(
        sa.select(CommentReport.comment_id).where(CommentReport.resolved_at.is_(None))
    )


def dismiss(moderator: Moderator, comment_id: int) -> int:
    """Settle the open reports of a comment, leaving its status as it is
    (a moderator's decision on it settles them too); returns how many.

    Raises:
        UnknownComment: no such comment.
        NotAllowed: the moderator does not moderate its site.
    """
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise UnknownComment(comment_id)
    if not can_moderate(moderator, comment.site_id):
        raise NotAllowed(comment_id)
    try:
        result = db.session.execute(
            sa.update(CommentReport)
            .where(
                CommentReport.comment_id == comment_id,
                CommentReport.resolved_at.is_(None),
            )
            .values(resolved_at=utcnow(), resolved_by_id=moderator.id)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result.rowcount

"""Readers' reports of published comments, and the moderators' Reported tab.

Reports bring a comment to a moderator; they do not overrule one. A reader
reports a comment once (who counts as a reader, and when a network must solve
the captcha: commentsvc.comments.reporters); each report is a
``comment.reported`` webhook event, and a comment with open reports is in the
Reported tab. When its open reports reach the site's ``report_threshold``,
moderators who want it get a mail, and a comment no moderator approved
(published by the trusted-author rule) goes back to Pending through
commentsvc.comments.moderation (audited as the system's, reason "reported").
A comment a moderator approved stays published until a moderator acts. A
moderator's decision on the comment, or a dismissal, settles its open reports:
they stop counting, and its readers cannot report it again.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import captcha, mail
from ..extensions import db
from ..mail.wake import wake_mail_workers
from ..models import (
    CaptchaProvider,
    Comment,
    CommentReport,
    CommentStatus,
    Moderator,
    Site,
    utcnow,
)
from ..webhooks.outbox import COMMENT_REPORTED, comment_payload, record_event
from ..webhooks.wake import wake_workers
from .access import NotAllowed, UnknownComment, can_moderate
from .moderation import change_by_system
from .reporters import Reporter, already_reported, network_busy_until

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
    # The site's captcha, solved: needed only from a network that reports often.
    captcha_token: str | None = None


@dataclass(frozen=True)
class Filed:
    """What became of a report: counted (False for a reader's second report of
    the comment), and whether it sent the comment back to Pending."""

    counted: bool
    held: bool = False


class CaptchaRequired(Exception):
    """The reporter's network reports often: this report needs the site's
    captcha, solved (nothing stored)."""


class NetworkBusy(Exception):
    """The reporter's network reports often and the site has no captcha: no
    more reports from it until *until* (nothing stored)."""

    def __init__(self, until: datetime):
        super().__init__(until.isoformat())
        self.until = until


def moderator_approved(comment: Comment) -> bool:
    """Whether a moderator approved the words the comment now shows (rather
    than the trusted-author rule publishing it, or an edit of it, with no
    decision): reports never unpublish it."""
    return (
        comment.status == CommentStatus.APPROVED
        and comment.moderated_at is not None
        and comment.decided_status == CommentStatus.APPROVED
        and comment.decided_body == comment.body
    )


def _open_reports(comment_id: int):
    return sa.select(sa.func.count()).where(
        CommentReport.comment_id == comment_id, CommentReport.resolved_at.is_(None)
    )


def has_open_reports(comment_id: int) -> bool:
    """Whether readers' reports of the comment wait for a moderator."""
    return db.session.scalar(_open_reports(comment_id)) > 0


def _check_captcha(site: Site, reporter: Reporter, report: ReaderReport, ip) -> None:
    """Raises CaptchaRequired, NetworkBusy, captcha.CaptchaRefused: see
    file_report."""
    busy_until = network_busy_until(reporter, site)
    if busy_until is None:
        return
    if site.captcha_provider == CaptchaProvider.NONE:
        raise NetworkBusy(busy_until)
    if not report.captcha_token:
        raise CaptchaRequired
    result = captcha.check(site, report.captcha_token, ip)
    if result.outcome == captcha.Outcome.LOW_SCORE:
        raise captcha.CaptchaInvalid(result)
    # A provider that is down or misconfigured does not stop a report: it only
    # brings the comment to a moderator (the rate limit still holds).


def file_report(site: Site, comment_id: int, report: ReaderReport, ip: str | None):
    """Store a reader's report of the published comment *comment_id* of *site*
    with its webhook event. At the site's threshold of open reports the
    moderators who want it are mailed and a comment no moderator approved goes
    back to Pending. A reader's second report of a comment is not counted
    (``Filed(counted=False)``).

    Raises:
        UnknownComment: no such published comment on this site.
        CaptchaRequired: the network reports often and sent no captcha token.
        captcha.CaptchaRefused: its captcha token is expired, bad or low-scored.
        NetworkBusy: the network reports often and the site has no captcha.
        sqlalchemy.exc.SQLAlchemyError: the database failed; nothing stored.
    """
    comment = db.session.get(Comment, comment_id)
    if (
        comment is None
        or comment.site_id != site.id
        or comment.status != CommentStatus.APPROVED
    ):
        raise UnknownComment(comment_id)
    version, protected = comment.version, moderator_approved(comment)
    reporter = Reporter.of(ip, report.token)
    if already_reported(comment_id, reporter):
        return Filed(counted=False)
    _check_captcha(site, reporter, report, ip)
    mailed = False
    try:
        db.session.add(
            CommentReport(
                site_id=site.id,
                comment_id=comment_id,
                reason=report.reason,
                explanation=report.explanation,
                ip_hash=reporter.network_hash,
                token_hash=reporter.token_hash,
                reader_hash=reporter.reader_hash,
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
        if open_reports == site.report_threshold:
            # Once per round of open reports: the one that reached it.
            mailed = mail.comment_reported(site.id, comment_id)
        db.session.commit()
    except IntegrityError:
        # Reported meanwhile by this reader (a concurrent duplicate).
        db.session.rollback()
        return Filed(counted=False)
    except BaseException:
        db.session.rollback()
        raise
    if recorded.deliveries:
        wake_workers()
    if mailed:
        wake_mail_workers()
    held = False
    if open_reports >= site.report_threshold and not protected:
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

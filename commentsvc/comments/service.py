"""Posting and reading comments: the service layer the API and the UI share.

Functions here own their transactions and never touch ``request``.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from .. import captcha, spam
from ..extensions import db
from ..models import Comment, CommentStatus, Site, as_utc, utcnow
from ..spam.verdict import Verdict
from ..webhooks.outbox import COMMENT_CREATED, record_comment_event
from ..webhooks.wake import wake_workers
from .bans import active_ban
from .errors import ValidationFailed
from .render import render_body
from .threads import find_thread, get_or_create_thread

ACCEPTED_MESSAGE = "Your comment is awaiting moderation."
PUBLISHED_MESSAGE = "Your comment has been published."


@dataclass(frozen=True)
class Submission:
    """A reader's comment, already checked for shape by the form."""

    thread: str
    url: str
    author: str
    body: str
    title: str | None = None
    parent_id: int | None = None
    email: str | None = None
    captcha_token: str | None = None
    honeypot: str | None = None
    form_token: str | None = None


@dataclass(frozen=True)
class ClientInfo:
    """Who sent the submission, as the transport saw it."""

    ip: str | None
    user_agent: str | None = None


def add_captcha(verdict: Verdict, result: captcha.CaptchaResult) -> None:
    """Record a captcha verification; a low score makes the comment spam."""
    verdict.signals["captcha"] = result.as_signal()
    if result.outcome == captcha.Outcome.LOW_SCORE:
        verdict.spam("captcha_low_score", result.score)
    elif result.outcome in (captcha.Outcome.UNAVAILABLE, captcha.Outcome.MISCONFIGURED):
        verdict.signals["captcha_unverified"] = result.detail or result.outcome.value


def _check_parent(site: Site, thread_key: str, parent_id: int) -> Comment:
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.site_id != site.id:
        raise ValidationFailed(
            {"parent_id": "The comment you reply to does not exist."}
        )
    if parent.thread.key != thread_key:
        raise ValidationFailed(
            {"parent_id": "The comment you reply to belongs to another page."}
        )
    if parent.status != CommentStatus.APPROVED:
        raise ValidationFailed(
            {"parent_id": "The comment you reply to is not published."}
        )
    return parent


def submit_comment(
    site: Site,
    submission: Submission,
    client: ClientInfo,
    verdict: Verdict | None = None,
) -> Comment:
    """Store a new comment (held for moderation unless the verdict says otherwise).

    The thread is created on its first post. Returns the stored comment.

    The parent is checked, then the spam rules and the captcha (see
    commentsvc.spam); spam is stored as such, never discarded.

    Raises:
        ValidationFailed: the parent is unknown, unpublished or on another page.
        captcha.CaptchaExpired: the token expired or was used; nothing stored.
        captcha.CaptchaInvalid: no token, or a bad one; nothing stored.
        sqlalchemy.exc.DBAPIError: the database failed; nothing was stored.
    """
    verdict = verdict or Verdict()
    if submission.parent_id is not None:
        _check_parent(site, submission.thread, submission.parent_id)
    ban = active_ban(site.id, submission.email, client.ip)
    if ban is not None:
        verdict.spam("banned", {"kind": ban.kind.value, "value": ban.value})
    token = spam.assess(site, submission, client, verdict)
    # End the read transaction: no database connection is held while the captcha
    # provider (or Akismet) answers; commit, not rollback, which would expire
    # the site.
    db.session.commit()
    result = captcha.check(site, submission.captcha_token, client.ip)
    if result.outcome != captcha.Outcome.NOT_REQUIRED:
        add_captcha(verdict, result)
    spam.after_captcha(site, submission, client, verdict, token)
    spam.publish_if_trusted(site, submission.email, verdict)
    try:
        thread = get_or_create_thread(
            site, submission.thread, submission.url, submission.title
        )
        comment = Comment(
            site=site,
            thread=thread,
            parent_id=submission.parent_id,
            author=submission.author,
            email=submission.email or None,
            body=submission.body,
            body_html=render_body(submission.body),
            status=verdict.status,
            ip=client.ip,
            user_agent=client.user_agent,
            signals=verdict.signals,
            created_at=utcnow(),
        )
        db.session.add(comment)
        db.session.flush()  # the id, for the event
        record_comment_event(comment, COMMENT_CREATED)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    wake_workers()
    return comment


def approved_comments(site: Site, thread_key: str) -> list[Comment]:
    """Return the approved comments of a thread, oldest first (empty if unknown)."""
    thread = find_thread(site, thread_key)
    if thread is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Comment)
            .where(
                Comment.thread_id == thread.id,
                Comment.status == CommentStatus.APPROVED,
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def public_comment(comment: Comment) -> dict:
    """The fields of a comment that anyone may read."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": comment.author,
        "html": comment.body_html,
        "created_at": iso8601(comment.created_at),
    }


def public_site_config(site: Site) -> dict:
    """What the embed needs to know about a site (never its secrets)."""
    return {
        "captcha": {
            "provider": site.captcha_provider.value,
            "site_key": site.captcha_site_key,
        },
        "require_email": site.require_email,
        "max_length": site.max_length,
    }


def thread_listing(site: Site, thread_key: str) -> dict:
    """The public listing of a thread: its approved comments and the site config."""
    comments = [public_comment(c) for c in approved_comments(site, thread_key)]
    return {
        "site": site.slug,
        "thread": thread_key,
        "count": len(comments),
        "comments": comments,
        "config": public_site_config(site),
    }


def iso8601(value) -> str:
    return as_utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")

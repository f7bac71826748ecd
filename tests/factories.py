"""Builders for the rows tests need, through the same services production uses."""

import itertools

import sqlalchemy as sa

from commentsvc import sites
from commentsvc.comments.service import ClientInfo, Submission, submit_comment
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Site

_counter = itertools.count(1)
ORIGIN = "https://news.example"


def get_site(slug: str = "news") -> Site:
    """The stored site *slug* (the test's own app context)."""
    return db.session.scalars(sa.select(Site).where(Site.slug == slug)).one()


def make_site(slug: str = "news", name: str = "Example News", **settings):
    settings.setdefault("allowed_origins", [ORIGIN])
    return sites.create_site(slug, name, **settings)


def make_comment(
    site,
    thread: str = "/article",
    status: CommentStatus = CommentStatus.APPROVED,
    **fields,
) -> Comment:
    """Store a comment the way the API does, then give it *status* directly."""
    n = next(_counter)
    values = {
        "thread": thread,
        "url": f"{ORIGIN}{thread}",
        "author": f"Reader {n}",
        "body": f"Comment number {n}",
    }
    values.update(fields)
    stored = submit_comment(site, Submission(**values), ClientInfo(ip="192.0.2.1"))
    comment = db.session.get(Comment, stored.id)
    if status != comment.status:
        comment.status = status
        db.session.commit()
    return comment


def comment_payload(**fields) -> dict:
    payload = {
        "thread": "/article",
        "url": f"{ORIGIN}/article",
        "title": "An article",
        "author": "Ann Reader",
        "email": "ann@example.org",
        "body": "A thoughtful comment.",
    }
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not None}


def rule_signals(comment) -> dict:
    """A comment's signals without the learning filter's scores (which every
    scored comment carries: spam, and likely to be rejected): what the rules
    said."""
    learned = ("spam_filter", "likely_rejected")
    return {k: v for k, v in comment.signals.items() if k not in learned}

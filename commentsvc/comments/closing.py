"""Closing threads: the one place that says whether a thread takes comments.

A thread is open unless

- a moderator closed it (``threads.comments_open`` False), or
- its site closes threads ``close_after_days`` days after their first comment
  (the thread's ``created_at``) and that time has passed, and no moderator
  opened it again (``comments_open`` True overrides the site's rule).

A thread that does not exist yet is open: its first post creates it. The API
(posting, the listing's ``closed``), the moderation UI and the CLI all ask
here, and a moderator's change goes through :func:`set_open`.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentStatus, Site, Thread, as_utc, utcnow
from ..sites import SLUG
from .cache import invalidate
from .errors import SiteNotFound, ThreadNotFound
from .threads import forget_cached

log = logging.getLogger(__name__)

# What set_open accepts: a moderator's choice, or back to the site's rule.
STATES = {"open": True, "closed": False, "site": None}


def closes_at(site, thread) -> datetime | None:
    """When *thread* closes by its site's rule (None: never by age).

    *site* is anything with ``close_after_days`` (the model, ``SiteSettings``,
    the listing's ``SiteView``); *thread* anything with ``created_at``.
    """
    days = getattr(site, "close_after_days", None)
    if not days or thread is None or thread.created_at is None:
        return None
    return as_utc(thread.created_at) + timedelta(days=days)


def is_closed(site, thread, now: datetime | None = None) -> bool:
    """True if *thread* (None: a thread not created yet) takes no new comments.

    *thread* is anything with ``comments_open`` and ``created_at`` (the model,
    the cached ``ThreadRef``, a row).
    """
    if thread is None:
        return False  # a new thread: its first post opens it
    if thread.comments_open is not None:
        return not thread.comments_open
    closing = closes_at(site, thread)
    return closing is not None and (now or utcnow()) >= closing


@dataclass(frozen=True)
class ThreadState:
    """A thread as the CLI and the moderation UI list it."""

    id: int
    key: str
    url: str
    title: str | None
    comments_open: bool | None
    created_at: datetime
    closed: bool
    approved: int

    @property
    def rule(self) -> str:
        """ "open"/"closed" (a moderator's choice) or "site" (the site's rule)."""
        if self.comments_open is None:
            return "site"
        return "open" if self.comments_open else "closed"


def _site(slug: str) -> Site:
    # A slug off the rule names no site (and PostgreSQL refuses a NUL byte).
    site = (
        db.session.scalar(sa.select(Site).where(Site.slug == slug))
        if SLUG.match(slug)
        else None
    )
    if site is None:
        raise SiteNotFound(slug)
    return site


def set_open(site_slug: str, key: str, state: bool | None, moderator=None) -> Thread:
    """Open (True) or close (False) the thread *key* of the site *site_slug*, or
    let it follow the site's rule again (None). The listing says so at once in
    every process (its cached pages are dropped), and the change is logged
    with who made it (*moderator*, None for the CLI).

    The caller checks that *moderator* may moderate the site.

    Raises:
        SiteNotFound: no such site.
        ThreadNotFound: the site has no such thread (no comment was posted).
    """
    site = _site(site_slug)
    thread = (
        db.session.scalar(
            sa.select(Thread).where(Thread.site_id == site.id, Thread.key == key)
        )
        if "\x00" not in key  # no thread has one (and PostgreSQL refuses it)
        else None
    )
    if thread is None:
        raise ThreadNotFound(key)
    before = thread.comments_open
    try:
        thread.comments_open = state
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if before is not state:
        # No audit row: the trail (moderation_events) records comments'
        # status changes only; the log keeps who opened or closed what.
        log.info(
            "thread %s of site %s: comments %s (was %s) by %s",
            key,
            site_slug,
            _word(state),
            _word(before),
            getattr(moderator, "username", None) or "the command line",
            extra={
                "site": site_slug,
                "thread_key": key,
                "comments_open": state,
                "moderator": getattr(moderator, "username", None),
            },
        )
    forget_cached(site_slug, key)  # the row posts check
    invalidate(site_slug, key)  # the listing's "closed"
    return thread


def _word(state: bool | None) -> str:
    return {True: "open", False: "closed", None: "follow the site's rule"}[state]


def thread_states(site_slug: str, closed_only: bool = False) -> list[ThreadState]:
    """The site's threads, newest first, each open or closed, with its number
    of approved comments.

    Raises:
        SiteNotFound: no such site.
    """
    site = _site(site_slug)
    approved = (
        sa.select(sa.func.count())
        .where(Comment.thread_id == Thread.id, Comment.status == CommentStatus.APPROVED)
        .correlate(Thread)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Thread, approved.label("approved"))
        .where(Thread.site_id == site.id)
        .order_by(Thread.created_at.desc(), Thread.id.desc())
    )
    now = utcnow()
    states = []
    for thread, count in rows:
        closed = is_closed(site, thread, now)
        if closed_only and not closed:
            continue
        states.append(
            ThreadState(
                id=thread.id,
                key=thread.key,
                url=thread.url,
                title=thread.title,
                comments_open=thread.comments_open,
                created_at=as_utc(thread.created_at),
                closed=closed,
                approved=count,
            )
        )
    return states

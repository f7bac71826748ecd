"""Posting and reading comments: the service layer the API and the UI share.

Functions here own their transactions and never touch ``request``.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from .. import accounts, captcha, mail, spam
from ..extensions import db
from ..mail.wake import wake_mail_workers
from ..models import Comment, CommentStatus, Site, utcnow
from ..spam import rules
from ..spam.verdict import Verdict
from ..webhooks.outbox import COMMENT_CREATED, comment_payload, record_event
from ..webhooks.wake import wake_workers
from . import closing, flight, listing
from .bans import active_ban
from .cache import (
    Count,
    Listing,
    SiteView,
    count_key,
    invalidate,
    listing_key,
    read_cache,
)
from .errors import ThreadClosed, ValidationFailed
from .render import render_body
from .threads import find_thread, forget_cached, get_or_create_thread, set_title

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
    # "Notify me of replies" (with an email): a subscription to the thread.
    notify: bool = False
    # Sent again after the site asked to reconsider it (MayBreakRules).
    post_anyway: bool = False
    # A signed-in reader (accounts.Reader): the author and address are theirs.
    reader: accounts.Reader | None = None


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
        # Unverified is held for a look even where trusted authors publish at once.
        verdict.hold("captcha_unverified")


@dataclass(frozen=True)
class StoredComment:
    """A comment as :func:`submit_comment` stored it."""

    id: int
    site_id: int
    thread_id: int
    parent_id: int | None
    author: str
    email: str | None
    body: str
    body_html: str
    status: CommentStatus
    signals: dict
    created_at: datetime
    moderated_at: datetime | None = None
    # The secret that lets its author edit or delete it (None: the site's
    # edit window is 0); only its hash is stored.
    edit_token: str | None = None


def new_edit_token() -> str:
    return secrets.token_urlsafe(24)


def edit_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The largest formatted comment stored: a page of the listing always has room
# for one (its JSON escaping and the other fields included).
MAX_HTML_BYTES = 160 * 1024

# Built once: every post runs it.
_INSERT_COMMENT = sa.insert(Comment.__table__).returning(Comment.__table__.c.id)


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
) -> StoredComment:
    """Store a new comment (held for moderation unless the verdict says otherwise).

    *site* is the site's row (the model, or the snapshot ``sites.site_settings``
    returns). The thread is created on its first post, without a title; the
    title the post offers is stored with the comment, and becomes the thread's
    only when the comment is published (here, or by a moderator).

    The parent is checked and the rules that need only the submission run;
    then the captcha; then, in one transaction, bans and the rules that read
    earlier comments, Akismet (outside it), and the insert with its webhook
    event (see commentsvc.spam). Spam is stored as such, never discarded.

    A closed thread (see closing) is refused first, before the captcha token
    or the form token is spent: the reader may keep the text for elsewhere;
    so is a comment the site asks its reader to reconsider.

    Raises:
        ThreadClosed: the thread takes no new comments; nothing stored or spent.
        MayBreakRules: likely to be rejected on a site that asks the reader
            first, and not sent with post_anyway; nothing stored or spent.
        ValidationFailed: the parent is unknown, unpublished or on another page,
            or the formatted body is over MAX_HTML_BYTES.
        captcha.CaptchaExpired: the token expired or was used; nothing stored.
        captcha.CaptchaInvalid: no token, or a bad one; nothing stored.
        sqlalchemy.exc.DBAPIError: the database failed; nothing was stored.
    """
    if closing.is_closed(site, find_thread(site, submission.thread)):
        raise ThreadClosed(submission.thread)
    verdict = verdict or Verdict()
    body_html = render_body(submission.body)
    if len(body_html.encode()) > MAX_HTML_BYTES:
        # Escaping and links can make a long comment several times larger: it
        # must still fit in one page of the listing (see listing.MAX_PAGE_BYTES).
        raise ValidationFailed(
            {"body": "This comment is too long once formatted: please shorten it."}
        )
    root_id = None
    if submission.parent_id is not None:
        parent = _check_parent(site, submission.thread, submission.parent_id)
        root_id = parent.root_id or parent.id
    token = spam.assess(site, submission, client, verdict)
    # End any read transaction: no database connection is held while the
    # captcha provider (or Akismet) answers.
    db.session.commit()
    reader = submission.reader
    if reader is not None and reader.skip_captcha:
        verdict.signals["captcha"] = "signed_in"
    else:
        result = captcha.check(site, submission.captcha_token, client.ip)
        if result.outcome != captcha.Outcome.NOT_REQUIRED:
            add_captcha(verdict, result)
    spent = None
    try:
        # One transaction from here on (one connection checkout, one commit),
        # unless Akismet is asked in between.
        ban = active_ban(site, submission.email, client.ip)
        if ban is not None:
            verdict.spam("banned", {"kind": ban.kind.value, "value": ban.value})
        signed = spam.check_history(site, submission, client, verdict)
        if spam.asks_akismet(site, verdict):
            db.session.commit()
        spent = spam.after_captcha(site, submission, client, verdict, token)
        if reader is not None:
            accounts.judge(site, reader, verdict)
        else:
            spam.publish_if_trusted(site, submission.email, verdict)
        thread = get_or_create_thread(site, submission.thread, submission.url)
        retitled = False
        if verdict.status == CommentStatus.APPROVED and submission.title:
            # Published at once, so the latest approved post: its title is the
            # thread's. A held post's title waits for its approval.
            retitled = set_title(thread.id, submission.title)
            if retitled:
                thread = thread._replace(title=submission.title)
        edit_token = new_edit_token() if site.edit_window_seconds else None
        values = {
            "site_id": site.id,
            "thread_id": thread.id,
            "parent_id": submission.parent_id,
            "author": submission.author,
            "email": submission.email or None,
            "body": submission.body,
            "body_html": body_html,
            "status": verdict.status,
            "signals": verdict.signals,
            "created_at": utcnow(),
        }
        comment_id = (
            db.session.connection()
            .execute(
                _INSERT_COMMENT,
                {
                    **values,
                    "body_hash": rules.body_digest(submission.body),
                    "root_id": root_id,
                    "page_title": submission.title or None,
                    "ip": client.ip,
                    "user_agent": client.user_agent,
                    "account_id": reader and reader.account_id,
                    "badge": "staff" if reader and reader.staff else None,
                    "edit_token_hash": edit_token and edit_token_hash(edit_token),
                },
            )
            .scalar_one()
        )
        spam.remember(site.id, comment_id, signed)
        comment = StoredComment(id=comment_id, edit_token=edit_token, **values)
        event = record_event(
            site.id, COMMENT_CREATED, comment_payload(comment, thread, site.slug)
        )
        mailed = mail.comment_posted(
            site.id,
            comment_id,
            comment.status,
            thread.id,
            submission.parent_id,
            comment.email,
            submission.notify,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        spam.not_stored(spent)
        raise
    if event.deliveries:
        wake_workers()
    if mailed:
        wake_mail_workers()
    if retitled:
        forget_cached(site.slug, submission.thread)
    if comment.status == CommentStatus.APPROVED:
        invalidate(site.slug, submission.thread)
    return comment


# In a serialized listing, only the count of an empty thread reads so: inside
# the JSON strings before it a quotation mark is always escaped.
_EMPTY = b'"count":0,'


def _config(name: str):
    return current_app.config[name]


def thread_listing(
    site: SiteView, thread_key: str, cursor: str = "", sort: str = ""
) -> Listing:
    """One page of a thread's public listing (the first, or the one *cursor*
    names), serialized once and cached, with an ETag: approved comments, the
    thread's total, the cursors to the rest, and the site's public config.
    *sort* is "oldest" or "newest" ("": the cursor's order, else the site's
    default). A page missing here is rebuilt once across all processes (see
    flight).

    Raises:
        listing.BadCursor: *cursor* is not one of ours, not of this thread, or
            of the other order.
    """
    cache = read_cache()
    key = listing_key(site.slug, thread_key, cursor, sort)
    found = cache.get(key)
    if found is not None:
        return found
    position = listing.decode_cursor(cursor) if cursor else None
    if position is not None and sort and position.newest != (sort == "newest"):
        raise listing.BadCursor(cursor)
    if position is not None:
        newest = position.newest
    else:
        newest = (sort or site.config["default_sort"]) == "newest"
    generation = cache.generation

    def build() -> tuple[str, bytes]:
        row = listing.thread_row(site.id, thread_key)
        thread = row.id if row is not None else None
        if thread is None:
            if position is not None:
                raise listing.BadCursor(cursor)
            page, count = listing.Page([], None, {}), 0
        else:
            page = (
                listing.replies_page(thread, position, _config("LISTING_PAGE_SIZE"))
                if position is not None and position.root is not None
                else listing.top_page(
                    thread,
                    position,
                    _config("LISTING_PAGE_SIZE"),
                    _config("LISTING_REPLIES"),
                    newest,
                )
            )
            count = listing.approved_count(thread)
        body = json.dumps(
            {
                "site": site.slug,
                "thread": thread_key,
                "count": count,
                "sort": "newest" if newest else "oldest",
                "comments": page.comments,
                "more_replies": page.more_replies,
                "next": page.next,
                # By the site's rule too: a page cached across the moment
                # the thread closes says so late (the post is refused anyway).
                "closed": closing.is_closed(site, row),
                "config": site.config,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        return hashlib.sha256(body).hexdigest()[:32], body

    etag, body = flight.shared(site.slug, thread_key, f"{cursor}|{sort}", build)
    # Empty listings (unknown threads too) are cached apart: see cache.PARTS.
    found = Listing(body, etag, empty=_EMPTY in body)
    cache.put(key, found, generation)
    return found


# The most threads one counts request may name (a page of article links).
MAX_COUNT_THREADS = 100


def thread_counts(site: SiteView, thread_keys: list[str]) -> dict[str, int]:
    """The approved comments of each of *thread_keys* (0 for a thread that does
    not exist), in their order. Each count is cached in-process like the
    listings and dropped with them when a comment of its thread is published
    or unpublished; the ones missing are read in one query."""
    cache = read_cache()
    counts: dict[str, int] = {}
    missing = []
    for key in thread_keys:
        found = cache.get(count_key(site.slug, key))
        if found is None:
            missing.append(key)
        else:
            counts[key] = found.n
    if missing:
        generation = cache.generation
        fresh = listing.approved_counts(site.id, missing)
        for key in missing:
            counts[key] = fresh.get(key, 0)
            cache.put(count_key(site.slug, key), Count(counts[key]), generation)
    return {key: counts[key] for key in thread_keys}

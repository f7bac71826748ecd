"""Content rules: links, word lists, repeated bodies, and trusted authors."""

import functools
import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentStatus, ModerationPolicy, Site, Thread, utcnow
from .links import find_links, shortened
from .verdict import Verdict

DUPLICATE_WINDOW = timedelta(hours=24)
# The same body on this many threads of a site within the window is spam.
MANY_THREADS = 3
# Shorter bodies without a link are exempt from the many-threads rule.
MIN_REPEATED_LENGTH = 25


def body_digest(body: str) -> str:
    """The digest comments are stored and looked up by for the repeat rules (not
    a security measure). Migration 0003 computes the same for older rows."""
    return hashlib.blake2b(body.encode(), digest_size=16).hexdigest()


def count_links(*texts: str | None) -> int:
    return len(find_links(*texts))


def word_list(text: str) -> list[str]:
    return [w.strip().lower() for w in (text or "").splitlines() if w.strip()]


def _entry_pattern(entry: str) -> str:
    """Whole words: ``cialis`` is not found in "specialists"; a trailing ``*``
    asks for a prefix (``crypto*`` finds "cryptocurrency"); spaces inside a
    phrase match any run of whitespace."""
    prefix = entry.endswith("*")
    entry = entry.rstrip("*").strip()
    if not entry:
        return ""
    body = r"\s+".join(re.escape(part) for part in entry.split())
    left = r"(?<!\w)" if re.match(r"\w", entry) else ""
    right = r"(?!\w)" if re.search(r"\w$", entry) else ""
    if prefix:
        right = r"\w*"
    return left + body + right


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> tuple[tuple[str, re.Pattern], ...]:
    """A site's word list, compiled once per distinct list."""
    compiled = []
    for entry in word_list(text):
        pattern = _entry_pattern(entry)
        if pattern:
            compiled.append((entry, re.compile(pattern, re.IGNORECASE)))
    return tuple(compiled)


def matches(text: str, haystack: str) -> list[str]:
    """The entries of the word list *text* found in *haystack*."""
    return [entry for entry, pattern in _compiled(text) if pattern.search(haystack)]


def check_links(site: Site, body: str, author: str, verdict: Verdict) -> None:
    """More links than the site allows, or any link through a URL shortener,
    holds the comment. Bare domains count as links."""
    hosts = find_links(body, author)
    if len(hosts) > site.max_links:
        verdict.hold("too_many_links", len(hosts))
    hidden = shortened(hosts)
    if hidden:
        verdict.hold("url_shortener", hidden)


def check_words(
    site: Site, author: str, email: str | None, body: str, url: str, verdict: Verdict
) -> None:
    """Blocked words make spam; watch words hold the comment with the reason.
    Whole words (or prefixes, with a trailing ``*``), matched case-insensitively
    against author, email and body, links in it included. Not the page's URL:
    an article about casinos is not spam."""
    haystack = "\n".join([author, email or "", body])
    blocked = matches(site.blocked_words, haystack)
    if blocked:
        verdict.spam("blocked_words", blocked)
    watched = matches(site.watch_words, haystack)
    if watched:
        verdict.hold("watch_words", watched)


_comments = Comment.__table__
_threads = Thread.__table__
# Built once: every post runs them. One query through the (site, body_hash,
# created_at) index finds the few earlier comments with this body, for both
# repeat rules.
_EARLIER_SAME_BODY = (
    sa.select(_comments.c.id, _comments.c.email, _comments.c.ip, _threads.c.key)
    .join(_threads, _threads.c.id == _comments.c.thread_id)
    .where(
        _comments.c.site_id == sa.bindparam("site_id"),
        _comments.c.body_hash == sa.bindparam("digest"),
        _comments.c.created_at > sa.bindparam("since"),
        _comments.c.body == sa.bindparam("body"),
    )
    .order_by(_comments.c.id)
    .limit(200)
)
_APPROVED_BY_EMAIL = sa.select(sa.func.count()).select_from(
    sa.select(_comments.c.id)
    .where(
        _comments.c.site_id == sa.bindparam("site_id"),
        _comments.c.email == sa.bindparam("email"),
        _comments.c.status == CommentStatus.APPROVED,
    )
    .limit(sa.bindparam("enough"))
    .subquery()
)


def check_duplicates(
    site: Site,
    body: str,
    email: str | None,
    ip: str | None,
    thread_key: str,
    verdict: Verdict,
) -> None:
    """The same body again from the same email or IP within 24 h, or the same
    body on many threads, is spam."""
    earlier = (
        db.session.connection()
        .execute(
            _EARLIER_SAME_BODY,
            {
                "site_id": site.id,
                "digest": body_digest(body),
                "since": utcnow() - DUPLICATE_WINDOW,
                "body": body,
            },
        )
        .all()
    )
    for row in earlier:
        if (email and row.email == email) or (ip and row.ip == ip):
            verdict.spam("duplicate", row.id)
            return
    if len(body.strip()) < MIN_REPEATED_LENGTH and not count_links(body):
        return  # "Thank you!" under three stories is readers, not spam
    # The threads it is on, counting this one once: the same body twice on one
    # thread is not a thread more.
    keys = {row.key for row in earlier} | {thread_key}
    if len(keys) >= MANY_THREADS:
        verdict.spam("same_body_on_many_threads", len(keys))


def trusted_author(site: Site, email: str | None) -> bool:
    """WordPress's rule: an author with N approved comments under this email on
    this site is published at once. (Anyone can type an email address: see the
    README for the risk.)"""
    if site.moderation_policy != ModerationPolicy.TRUST_APPROVED_AUTHORS or not email:
        return False
    enough = site.trusted_author_min_approved
    approved = (
        db.session.connection()
        .execute(
            _APPROVED_BY_EMAIL,
            {"site_id": site.id, "email": email.lower(), "enough": enough},
        )
        .scalar_one()
    )
    return approved >= enough

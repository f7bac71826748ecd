"""Optional Akismet (a site setting): a second opinion on each comment, and the
moderators' spam and not-spam decisions sent back to it.

Akismet's failure never blocks a comment: it is noted in the signals and the
comment goes on to the moderators like any other.
"""

import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import akismet
import httpx
from flask import current_app

from ..models import Comment, CommentStatus, Site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    api_url: str
    timeout: float

    @classmethod
    def from_app(cls) -> "Settings":
        config = current_app.config
        return cls(config["AKISMET_API_URL"], config["AKISMET_TIMEOUT"])


def _http_client(settings: Settings) -> httpx.Client:
    """An httpx client with our timeout that sends Akismet's requests to
    AKISMET_API_URL (an outbound proxy, or a test stand-in)."""
    base = httpx.URL(settings.api_url)

    def redirect(request: httpx.Request) -> None:
        if base.host != "rest.akismet.com" or base.scheme != "https":
            request.url = request.url.copy_with(
                scheme=base.scheme, host=base.host, port=base.port
            )
            request.headers["Host"] = base.netloc.decode()

    return httpx.Client(
        headers={"User-Agent": akismet.USER_AGENT},
        timeout=settings.timeout,
        event_hooks={"request": [redirect]},
    )


@contextlib.contextmanager
def _client(key: str, blog: str, settings: Settings):
    # Not akismet's own context manager: entering it verifies the key, a round
    # trip per comment. A wrong key shows up as an APIKeyError on the real call.
    http = _http_client(settings)
    try:
        yield akismet.SyncClient(
            config=akismet.Config(key=key, url=blog), http_client=http
        )
    finally:
        http.close()


def _blog(site: Site) -> str:
    return (site.allowed_origins or ["https://example.invalid"])[0]


def _arguments(comment_author, email, body, url, user_agent) -> dict:
    arguments = {
        "comment_type": "comment",
        "comment_author": comment_author,
        "comment_content": body,
        "permalink": url,
    }
    if email:
        arguments["comment_author_email"] = email
    if user_agent:
        arguments["user_agent"] = user_agent
    return arguments


def check(site: Site, author, email, body, url, ip, user_agent) -> str:
    """Ask Akismet about a new comment: "ham", "spam", or "unavailable"."""
    try:
        with _client(site.akismet_key, _blog(site), Settings.from_app()) as client:
            answer = client.comment_check(
                ip or "0.0.0.0",  # noqa: S104 - Akismet requires a value
                **_arguments(author, email, body, url, user_agent),
            )
    except (akismet.AkismetError, httpx.HTTPError, OSError) as error:
        log.warning(
            "akismet check failed for site %s: %s", site.slug, type(error).__name__
        )
        return "unavailable"
    return "spam" if answer else "ham"


@dataclass(frozen=True)
class Feedback:
    """A moderator's verdict on a comment, in plain values (sent off the session)."""

    comment_id: int
    is_spam: bool
    key: str
    blog: str
    ip: str | None
    arguments: dict


def feedback_for(comment: Comment, from_status, to_status) -> Feedback | None:
    """What to tell Akismet about a decision, if anything: spam it missed
    (submit-spam), or a comment wrongly held as spam that a moderator rescued
    (submit-ham)."""
    site = comment.site
    if not site.akismet_key:
        return None
    said_spam = comment.signals.get("akismet") == "spam"
    if to_status == CommentStatus.SPAM and not said_spam:
        is_spam = True
    elif to_status == CommentStatus.APPROVED and from_status == CommentStatus.SPAM:
        is_spam = False
    else:
        return None
    return Feedback(
        comment.id,
        is_spam,
        site.akismet_key,
        _blog(site),
        comment.ip,
        _arguments(
            comment.author,
            comment.email,
            comment.body,
            comment.thread.url,
            comment.user_agent,
        ),
    )


def _send(feedback: Feedback, settings: Settings) -> bool:
    try:
        with _client(feedback.key, feedback.blog, settings) as client:
            method = client.submit_spam if feedback.is_spam else client.submit_ham
            method(feedback.ip or "0.0.0.0", **feedback.arguments)  # noqa: S104
    except (akismet.AkismetError, httpx.HTTPError, OSError) as error:
        log.warning(
            "akismet feedback failed for comment %s: %s",
            feedback.comment_id,
            type(error).__name__,
        )
        return False
    return True


def send_feedback(items: list[Feedback]) -> int:
    """Send moderators' verdicts to Akismet at once, waiting at most about one
    timeout in all; returns how many were delivered. Never raises: a lost
    feedback costs Akismet a lesson, not us a decision."""
    if not items:
        return 0
    settings = Settings.from_app()
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        futures = [pool.submit(_send, item, settings) for item in items]
        done, _ = wait(futures, timeout=settings.timeout + 1)
    return sum(1 for f in done if f.result())

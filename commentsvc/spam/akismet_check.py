"""Optional Akismet (a site setting): a second opinion on each comment, and the
moderators' spam and not-spam decisions sent back to it.

Akismet's failure never blocks a comment: it is noted in the signals and the
comment goes on to the moderators like any other.
"""

import logging

import akismet
import httpx
from flask import current_app

from ..models import Comment, Site

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://rest.akismet.com"


def _http_client() -> httpx.Client:
    """An httpx client with our timeout that sends Akismet's requests to
    AKISMET_API_URL (an outbound proxy, or a test stand-in)."""
    base = httpx.URL(current_app.config["AKISMET_API_URL"])

    def redirect(request: httpx.Request) -> None:
        if base.host != "rest.akismet.com" or base.scheme != "https":
            request.url = request.url.copy_with(
                scheme=base.scheme, host=base.host, port=base.port
            )
            request.headers["Host"] = base.netloc.decode()

    return httpx.Client(
        headers={"User-Agent": akismet.USER_AGENT},
        timeout=current_app.config["AKISMET_TIMEOUT"],
        event_hooks={"request": [redirect]},
    )


def _client(site: Site) -> akismet.SyncClient:
    blog = (site.allowed_origins or ["https://example.invalid"])[0]
    return akismet.SyncClient(
        config=akismet.Config(key=site.akismet_key, url=blog),
        http_client=_http_client(),
    )


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
        with _client(site) as client:
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


def send_feedback(comment: Comment, is_spam: bool) -> bool:
    """Tell Akismet a moderator's verdict (submit-spam / submit-ham). Returns
    whether it was delivered; failures are logged, never raised."""
    site = comment.site
    if not site.akismet_key:
        return False
    try:
        with _client(site) as client:
            method = client.submit_spam if is_spam else client.submit_ham
            method(
                comment.ip or "0.0.0.0",  # noqa: S104
                **_arguments(
                    comment.author,
                    comment.email,
                    comment.body,
                    comment.thread.url,
                    comment.user_agent,
                ),
            )
    except (akismet.AkismetError, httpx.HTTPError, OSError) as error:
        log.warning(
            "akismet feedback failed for comment %s: %s",
            comment.id,
            type(error).__name__,
        )
        return False
    return True

"""Coming back from a sign-in (an e-mail link, an OpenID Connect provider): to
the article page the reader left, with their new session in the URL's
fragment, which the embed takes and removes (a fragment never reaches a
server, so no log of ours or the site's keeps it)."""

from urllib.parse import quote

from ..inputrules import http_url_problem
from ..origins import origin_of_url

# The embed looks for this in location.hash (docs/embed.md).
FRAGMENT = "commentsvc-signin"


def safe_return(site, url) -> str | None:
    """*url* if a sign-in may send the reader back there: an http(s) URL on one
    of the site's allowed origins (never elsewhere: an open redirect would
    hand a session to anyone); else None."""
    if not isinstance(url, str) or len(url) > 2048 or http_url_problem(url):
        return None
    if origin_of_url(url) not in (site.allowed_origins or ()):
        return None
    return url


def back_to(return_url: str, session_token: str) -> str:
    """The page to send a signed-in reader back to, their session in the
    fragment (any fragment the page had is replaced)."""
    page = return_url.split("#", 1)[0]
    return f"{page}#{FRAGMENT}={quote(session_token, safe='')}"

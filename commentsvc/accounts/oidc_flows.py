"""The OpenID Connect sign-ins a browser has under way, kept by that browser
in one signed, short-lived cookie on the service's own origin: any instance
of the service can take the callback, and no process remembers anything.

The cookie binds the callback to the browser that started the sign-in (a
link someone else started, with their code, signs no one in), and carries
the PKCE verifier and the nonce, which never travel through the provider.
Signed with SECRET_KEY (itsdangerous, as Flask's own session); not secret
from the browser that holds it, which is who it is about.
"""

import dataclasses

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .oidc import Flow

COOKIE = "commentsvc_oidc"
PATH = "/auth/"
SALT = "commentsvc.accounts.oidc-flow"
# A reader signs in at their provider within this many seconds.
MAX_AGE = 600
# Sign-ins started in other tabs that stay valid; a browser's cookie stays
# well under the 4 KB a browser keeps (a return URL is at most 2 KB).
KEEP = 3
MAX_COOKIE_BYTES = 3800


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def read(cookie: str | None) -> list[Flow]:
    """The sign-ins under way in *cookie* (newest last); none if it is missing,
    tampered with or older than MAX_AGE."""
    if not cookie:
        return []
    try:
        entries = _serializer().loads(cookie, max_age=MAX_AGE)
        return [Flow(**entry) for entry in entries]
    except (BadSignature, TypeError, ValueError):
        return []


def add(cookie: str | None, flow: Flow) -> str:
    """The cookie's new value with *flow* added (older sign-ins dropped to
    fit)."""
    flows = [*read(cookie), flow][-KEEP:]
    while True:
        value = _serializer().dumps([dataclasses.asdict(f) for f in flows])
        if len(value) <= MAX_COOKIE_BYTES or len(flows) == 1:
            return value
        flows = flows[1:]


def take(cookie: str | None, state: str | None) -> tuple[Flow | None, str | None]:
    """The sign-in whose state is *state*, and the cookie's value without it
    (None when nothing is left): a state is used once."""
    flows = read(cookie)
    found = next((f for f in flows if state and f.state == state), None)
    rest = [f for f in flows if f is not found]
    if not rest:
        return found, None
    return found, _serializer().dumps([dataclasses.asdict(f) for f in rest])


def latest(cookie: str | None) -> Flow | None:
    """The newest sign-in under way, for a page that must link back somewhere."""
    flows = read(cookie)
    return flows[-1] if flows else None


def set_cookie(response, value: str | None, secure: bool) -> None:
    """Put *value* in the browser (or remove the cookie when None). Lax: the
    provider sends the reader back with a top-level GET, which carries it."""
    if value is None:
        response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="Lax")
        return
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path=PATH,
        secure=secure,
        httponly=True,
        samesite="Lax",
    )

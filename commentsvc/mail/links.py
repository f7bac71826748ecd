"""Signed links in mail, and the absolute URLs they are built on.

Each kind of link has its own salt, so a token of one kind is never accepted as
another. Decision and confirmation links expire (``MAIL_LINK_DAYS``); an
unsubscribe link never does: it must work for as long as mail can arrive.
Single use is not the token's business: a decision link carries the comment's
version, which the decision bumps.
"""

from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

DECIDE = "commentsvc.mail.decide"
CONFIRM = "commentsvc.mail.confirm"
UNSUBSCRIBE = "commentsvc.mail.unsubscribe"
RESUME = "commentsvc.mail.resume"


class LinkError(Exception):
    """A mail link we cannot act on; a page answers each kind clearly."""


class LinkExpired(LinkError):
    """The link was genuine but is older than MAIL_LINK_DAYS."""


class LinkInvalid(LinkError):
    """The link was not made by us (tampered, truncated, another kind)."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign(salt: str, payload: dict) -> str:
    return _serializer(salt).dumps(payload)


def verify(salt: str, token: str, expires: bool = True) -> dict:
    """The payload of *token*.

    Raises:
        LinkExpired: older than MAIL_LINK_DAYS (if *expires*).
        LinkInvalid: not a token of this kind.
    """
    return verify_issued(salt, token, expires)[0]


def verify_issued(salt: str, token: str, expires: bool = True):
    """The payload of *token* and when it was signed (aware UTC).

    Raises:
        LinkExpired: older than MAIL_LINK_DAYS (if *expires*).
        LinkInvalid: not a token of this kind.
    """
    max_age = current_app.config["MAIL_LINK_DAYS"] * 86400 if expires else None
    try:
        payload, issued = _serializer(salt).loads(
            token, max_age=max_age, return_timestamp=True
        )
    except SignatureExpired:
        raise LinkExpired from None
    except BadSignature:
        raise LinkInvalid from None
    if not isinstance(payload, dict):
        raise LinkInvalid
    return payload, issued


def external_url(endpoint: str, **values) -> str:
    """An absolute URL on ``PUBLIC_URL`` (the worker has no request to go by).

    Raises:
        werkzeug.routing.BuildError: no such endpoint or values.
    """
    public = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        public.netloc, script_name=public.path or "/", url_scheme=public.scheme
    )
    return adapter.build(endpoint, values, force_external=True)

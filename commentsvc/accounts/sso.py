"""The site's own accounts: a short-lived JWT the site's page signs for its
logged-in reader (docs/sso.md), checked with PyJWT."""

import secrets
import time

import jwt

from ..inputrules import email_problem, http_url_problem, name_problem
from .errors import SsoExpired, SsoInvalid

# HS256 with the site's secret by default; RS256 or ES256 with its public key.
ALGORITHMS = ("HS256", "RS256", "ES256")
# Clocks differ: a token this many seconds past its exp still passes.
LEEWAY_SECONDS = 30
# A JWT longer than this is not one of ours (a name, an address, a picture URL).
MAX_TOKEN_LENGTH = 8192
# Tokens are short-lived (docs/sso.md: minutes): one that lives longer than a
# day, copied out of a page, would post as its reader until the secret turns.
MAX_LIFETIME_SECONDS = 86_400


def new_secret() -> str:
    """A fresh HS256 signing secret (256 bits)."""
    return secrets.token_urlsafe(32)


def verify(settings, slug: str, token: str) -> dict:
    """The reader a token names: {"sub", "name", "email", "avatar"}, checked.

    *settings* are the site's sign-in settings; the token must be signed with
    its secret (or its public key), have the site's slug as audience, and
    carry exp.

    Raises:
        SsoExpired: past its exp.
        SsoInvalid: anything else wrong (the site takes no tokens, a bad
            signature, another audience, a missing or malformed claim, an
            exp more than MAX_LIFETIME_SECONDS ahead).
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise SsoInvalid()
    algorithm = settings.sso_algorithm or "HS256"
    key = settings.sso_secret if algorithm == "HS256" else settings.sso_public_key
    if not key or algorithm not in ALGORITHMS:
        raise SsoInvalid(
            "This site does not take sign-in tokens. Your comment is kept."
        )
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=slug,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise SsoExpired() from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise SsoInvalid() from None
    if claims["exp"] - time.time() > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise SsoInvalid(
            "This page's sign-in lasts longer than a day, which this service "
            "does not take. Your comment is kept."
        )
    return _reader(claims)


def _reader(claims: dict) -> dict:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 255:
        raise SsoInvalid()
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip() or name_problem(name.strip()):
        raise SsoInvalid(
            "This page's sign-in gives no usable name. Your comment is kept."
        )
    email = claims.get("email") or None
    if email is not None and (
        not isinstance(email, str) or email_problem(email.strip())
    ):
        raise SsoInvalid(
            "This page's sign-in gives an e-mail address we cannot use. "
            "Your comment is kept."
        )
    avatar = claims.get("avatar") or None
    if avatar is not None and (
        not isinstance(avatar, str)
        or len(avatar) > 2048
        or http_url_problem(avatar)
        or not avatar.startswith("https://")
    ):
        avatar = None  # a picture is optional: never a reason to refuse a reader
    return {
        "sub": sub.strip(),
        "name": name.strip(),
        "email": email.strip().lower() if email else None,
        "avatar": avatar,
    }

"""The time-trap form token: handed out when a reader first touches the form,
sent back with the post. A form sent faster than the site's minimum after it was
shown is spam; a token is good for one comment.

Tokens are signed with the app's secret key (no state until used); single use is
recorded in Redis so every app process agrees.
"""

import contextlib
import secrets
import time

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer
from redis.exceptions import RedisError

from ..extensions import get_redis
from ..models import Site

_SALT = "commentsvc.form-token"
# A form may stay open a long time (a reader writing a long comment).
MAX_AGE = 7 * 24 * 3600


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue(site: Site) -> str:
    """A fresh form token for *site*."""
    return _serializer().dumps(
        {"s": site.slug, "t": round(time.time(), 3), "n": secrets.token_urlsafe(9)}
    )


class FormTokenProblem(Exception):
    """Why a form token does not vouch for the post; ``signal`` names it."""

    def __init__(self, signal: str, value=True, spam: bool = True):
        super().__init__(signal)
        self.signal = signal
        self.value = value
        self.spam = spam


def check(site: Site, token: str | None) -> dict:
    """Check *token* for *site*; return its data.

    Raises:
        FormTokenProblem: missing (held, not spam: the embed may have failed to
            fetch it), forged, for another site, too old, or sent too fast (spam).
    """
    if not token:
        raise FormTokenProblem("no_form_token", spam=False)
    try:
        data = _serializer().loads(token)
    except (BadSignature, SignatureExpired):
        raise FormTokenProblem("form_token_invalid") from None
    if not isinstance(data, dict) or data.get("s") != site.slug:
        raise FormTokenProblem("form_token_invalid")
    try:
        age = time.time() - float(data["t"])
    except (KeyError, TypeError, ValueError):
        raise FormTokenProblem("form_token_invalid") from None
    if age > MAX_AGE:
        raise FormTokenProblem("form_token_too_old", round(age), spam=False)
    if age < site.min_submit_seconds:
        raise FormTokenProblem("too_fast", round(age, 2))
    return data


def _used_key(data: dict) -> str:
    return f"{current_app.config['REDIS_KEY_PREFIX']}form-token:{data.get('n')}"


def use(data: dict) -> bool:
    """Record the token as used; False if it was used before. If Redis is down
    the token is accepted (a lost guard, not a lost comment)."""
    try:
        return bool(get_redis().set(_used_key(data), 1, nx=True, ex=MAX_AGE))
    except (RedisError, OSError):
        return True


def release(data: dict) -> None:
    """Forget a use recorded by :func:`use` whose comment was not stored (the
    database failed), so that the reader's retry is not taken for a reuse."""
    # Redis down: the retry will be marked reused, and a moderator sees why.
    with contextlib.suppress(RedisError, OSError):
        get_redis().delete(_used_key(data))

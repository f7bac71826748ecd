"""The built-in ``dev`` provider, for the demo and the tests. Not for production.

It issues its own tokens and checks them with Google's rules: a token lives
``CAPTCHA_DEV_TOKEN_LIFETIME`` seconds (120 by default) and is good once. Tokens
are signed with the app's secret key; single use is enforced in Redis, so any
number of app processes agree.
"""

import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from redis.exceptions import RedisError

from ..extensions import get_redis
from ..models import CaptchaProvider, Site
from .result import CaptchaResult, Outcome

_SALT = "commentsvc.captcha.dev"


class DevCaptchaDisabled(Exception):
    """The dev provider is not enabled in this deployment, or not for this site."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def enabled_for(site: Site) -> bool:
    return bool(
        current_app.config["CAPTCHA_DEV_ENABLED"]
        and site.captcha_provider == CaptchaProvider.DEV
    )


def issue_token(site: Site) -> tuple[str, int]:
    """Return a fresh token for *site* and its lifetime in seconds.

    Raises:
        DevCaptchaDisabled: the dev provider is off, or the site uses another one.
    """
    if not enabled_for(site):
        raise DevCaptchaDisabled(site.slug)
    token = _serializer().dumps({"s": site.slug, "n": secrets.token_urlsafe(12)})
    return token, current_app.config["CAPTCHA_DEV_TOKEN_LIFETIME"]


def verify(site: Site, token: str) -> CaptchaResult:
    """Check a dev token: signature, site, lifetime, then single use."""
    result = CaptchaResult(provider=CaptchaProvider.DEV.value, outcome=Outcome.INVALID)
    if not current_app.config["CAPTCHA_DEV_ENABLED"]:
        result.outcome = Outcome.MISCONFIGURED
        result.detail = "the dev provider is disabled in this deployment"
        return result
    lifetime = current_app.config["CAPTCHA_DEV_TOKEN_LIFETIME"]
    try:
        data = _serializer().loads(token, max_age=lifetime)
    except SignatureExpired:
        result.outcome = Outcome.EXPIRED
        result.error_codes = ["timeout-or-duplicate"]
        return result
    except BadSignature:
        result.error_codes = ["invalid-input-response"]
        result.detail = "not a token we issued"
        return result
    if not isinstance(data, dict) or data.get("s") != site.slug:
        result.error_codes = ["invalid-input-response"]
        result.detail = "token issued for another site"
        return result
    key = f"{current_app.config['REDIS_KEY_PREFIX']}captcha:dev:{data.get('n')}"
    try:
        first_use = get_redis().set(key, 1, nx=True, ex=lifetime + 5)
    except (RedisError, OSError) as error:
        result.outcome = Outcome.UNAVAILABLE
        result.detail = f"redis unreachable ({type(error).__name__})"
        return result
    if not first_use:
        result.outcome = Outcome.EXPIRED
        result.error_codes = ["timeout-or-duplicate"]
        return result
    result.outcome = Outcome.OK
    result.success = True
    return result

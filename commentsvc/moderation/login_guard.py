"""Password guessing meets friction, never a lockout.

Wrong passwords are counted per account (whoever sent them) in Redis for
``LOGIN_FAILURE_WINDOW`` seconds. From ``LOGIN_CAPTCHA_AFTER`` of them on, that
account's login needs a captcha answer before its password is even checked: the
owner answers one and is in, from any address; a guesser spread over many
addresses pays a captcha for every guess. Success does not reset the count, so
the owner's logins give a guesser no fresh free tries. Rate limits per address,
and per account and address, sit in front (``commentsvc.ratelimit``).

Without a login captcha (``LOGIN_CAPTCHA_PROVIDER=none``) the per-account rate
limit stands in for it, and with it the risk of a lockout. While Redis is down
no captcha is asked (the count is unknown) and only the per-address limits,
counted in each process, bound guessing.
"""

import logging
from dataclasses import dataclass, field

from flask import current_app
from redis.exceptions import RedisError

from .. import captcha
from ..captcha import dev
from ..captcha.result import ACTION, Outcome
from ..extensions import get_redis
from ..models import CaptchaProvider, Moderator
from .accounts import authenticate

log = logging.getLogger(__name__)

# The form fields each provider's widget fills in ("captcha_token": the dev one).
TOKEN_FIELDS = (
    "captcha_token",
    "g-recaptcha-response",
    "h-captcha-response",
    "cf-turnstile-response",
)
# Frames each provider's widget opens (added to the login page's CSP).
FRAME_SOURCES = {
    CaptchaProvider.RECAPTCHA_V2: "https://www.google.com https://recaptcha.google.com",
    CaptchaProvider.HCAPTCHA: "https://hcaptcha.com https://*.hcaptcha.com",
    CaptchaProvider.TURNSTILE: "https://challenges.cloudflare.com",
}
SCRIPTS = {
    CaptchaProvider.RECAPTCHA_V2: "https://www.google.com/recaptcha/api.js",
    CaptchaProvider.HCAPTCHA: "https://js.hcaptcha.com/1/api.js",
    CaptchaProvider.TURNSTILE: "https://challenges.cloudflare.com/turnstile/v0/api.js",
}


@dataclass(frozen=True)
class LoginCaptcha:
    """What the captcha providers read of a site, for the login form."""

    captcha_provider: CaptchaProvider
    captcha_site_key: str | None = None
    captcha_secret: str | None = None
    # Not a possible site slug: a dev token issued for a site never passes here.
    slug: str = "(moderator login)"
    allowed_origins: list[str] = field(default_factory=list)
    captcha_score_threshold: float = 0.5


class CaptchaRequired(Exception):
    """This account's login needs a captcha answer and none good came with it;
    ``unavailable`` if the provider could not judge the answer."""

    def __init__(self, detail: str, unavailable: bool = False):
        super().__init__(detail)
        self.unavailable = unavailable


class WrongCredentials(Exception):
    """No active moderator has this username and password."""


def login_captcha() -> LoginCaptcha | None:
    """The instance's login captcha, or None if it has none."""
    provider = current_app.config["LOGIN_CAPTCHA_PROVIDER"]
    if provider == "none":
        return None
    return LoginCaptcha(
        CaptchaProvider(provider),
        current_app.config["LOGIN_CAPTCHA_SITE_KEY"],
        current_app.config["LOGIN_CAPTCHA_SECRET"],
    )


def _key(username: str | None) -> str:
    # Case-folded, so that "Admin" and "admin" share one count.
    account = (username or "").strip().lower()[:64]
    return f"{current_app.config['REDIS_KEY_PREFIX']}login:failures:{account}"


def captcha_needed(username: str | None) -> bool:
    """True if a login as *username* needs a captcha answer now."""
    if login_captcha() is None:
        return False
    try:
        failures = int(get_redis().get(_key(username)) or 0)
    except (RedisError, OSError):
        # Requiring it of everyone would lock every moderator out while Redis is
        # down (the dev captcha itself needs Redis): the per-address limits,
        # counted in each process meanwhile, bound the guessing instead.
        log.warning("login failure count unavailable: no captcha asked")
        return False
    return failures >= current_app.config["LOGIN_CAPTCHA_AFTER"]


def _record_failure(username: str | None) -> None:
    key = _key(username)
    try:
        with get_redis().pipeline() as pipe:
            # The window starts at the first failure (SET NX EX), then counts.
            pipe.set(key, 0, nx=True, ex=current_app.config["LOGIN_FAILURE_WINDOW"])
            pipe.incr(key)
            pipe.execute()
    except (RedisError, OSError):
        log.warning("could not count a failed login in Redis")


def token_from(form) -> str | None:
    """The captcha answer in a submitted *form* (a mapping), whichever provider."""
    for name in TOKEN_FIELDS:
        value = form.get(name)
        if value:
            return value[:4096]
    return None


def log_in(
    username: str, password: str, captcha_token: str | None, remote_ip: str | None
) -> Moderator:
    """The moderator these credentials belong to, if the account's captcha (when
    needed) was answered.

    Raises:
        CaptchaRequired: a captcha is needed and *captcha_token* is missing,
            wrong, used before, or could not be checked; the password was not
            checked.
        WrongCredentials: the username or password is wrong (counted).
    """
    if captcha_needed(username):
        try:
            result = captcha.check(login_captcha(), captcha_token, remote_ip)
        except captcha.CaptchaRefused as error:
            raise CaptchaRequired(str(error)) from None
        # Provider trouble or a low score: no way to tell a person from a script.
        if result.outcome != Outcome.OK:
            raise CaptchaRequired(
                result.outcome.value,
                unavailable=result.outcome
                in (Outcome.UNAVAILABLE, Outcome.MISCONFIGURED),
            )
    moderator = authenticate(username, password)
    if moderator is None:
        _record_failure(username)
        raise WrongCredentials(username)
    return moderator


def widget() -> dict | None:
    """What the login page shows to ask for a captcha, or None if there is none:
    ``provider``, ``site_key``, ``script``, ``action`` and, for the dev
    provider, a fresh ``dev_token`` (ticking its box sends it)."""
    settings = login_captcha()
    if settings is None:
        return None
    shown = {
        "provider": settings.captcha_provider.value,
        "site_key": settings.captcha_site_key,
        "script": SCRIPTS.get(settings.captcha_provider),
        "frame_sources": FRAME_SOURCES.get(settings.captcha_provider),
        "action": ACTION,
    }
    if settings.captcha_provider == CaptchaProvider.DEV:
        shown["dev_token"], _ = dev.issue_token(settings)
    return shown

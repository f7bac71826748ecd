"""Password guessing meets friction, never a lockout.

Wrong passwords are counted per account (whoever sent them) in Redis for
``LOGIN_FAILURE_WINDOW`` seconds. From ``LOGIN_CAPTCHA_AFTER`` of them on, that
account's login needs a captcha answer before its password is even checked: the
owner answers one and is in, from any address; a guesser spread over many
addresses pays a captcha for every guess. Success does not reset the count, so
the owner's logins give a guesser no fresh free tries. Rate limits per address,
and per account and address, sit in front (``commentsvc.ratelimit``).

The default login captcha is our own proof of work (``altcha``,
``login_challenge``): no third party, no keys. Without any login captcha
(``LOGIN_CAPTCHA_PROVIDER=none``) the per-account rate
limit stands in for it, and with it the risk that a stranger uses it up. A
browser that logged in as the moderator before holds a device cookie
(``devices``): it is exempt from that limit and the captcha, and its wrong
passwords count against it alone (``LOGIN_DEVICE_MAX_FAILURES``), so strangers'
guesses never lock the owner's own browsers out. While Redis is down no captcha
is asked (the count is unknown) and only the per-address limits, counted in
each process, bound guessing.

Wrong current passwords on the own-password form count as failed logins of the
account too, and at ``PASSWORD_CHANGE_MAX_FAILURES`` of them every session of
the moderator ends (``change_own_password``).
"""

import logging
from dataclasses import dataclass, field

from flask import current_app
from redis.exceptions import RedisError

from .. import captcha
from ..captcha import dev
from ..captcha.result import ACTION, Outcome
from ..comments.errors import ValidationFailed
from ..extensions import get_redis
from ..models import CaptchaProvider, Moderator
from . import accounts, login_challenge
from .accounts import authenticate

log = logging.getLogger(__name__)

# The form fields each provider's widget fills in ("captcha_token": the dev one).
TOKEN_FIELDS = (
    "captcha_token",
    login_challenge.FIELD,
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


def _provider() -> str:
    return current_app.config["LOGIN_CAPTCHA_PROVIDER"]


def login_captcha() -> LoginCaptcha | None:
    """The instance's third-party (or dev) login captcha, or None if it has
    none (``none``, or our own ``altcha`` proof of work)."""
    provider = _provider()
    if provider in ("none", "altcha"):
        return None
    return LoginCaptcha(
        CaptchaProvider(provider),
        current_app.config["LOGIN_CAPTCHA_SITE_KEY"],
        current_app.config["LOGIN_CAPTCHA_SECRET"],
    )


class PasswordFormLocked(Exception):
    """Too many wrong current passwords on the own-password form: every session
    of the moderator was ended."""


class GuardUnavailable(Exception):
    """The count of wrong current passwords cannot be read (Redis is down)."""


def account_name(username: str | None) -> str:
    """The account a login as *username* counts against: as login reads the name
    (spaces around it dropped), case-folded so that "Admin" and "admin" share
    one count."""
    return (username or "").strip().lower()[:64]


def _key(username: str | None) -> str:
    prefix = current_app.config["REDIS_KEY_PREFIX"]
    return f"{prefix}login:failures:{account_name(username)}"


def _device_key(device: str) -> str:
    return f"{current_app.config['REDIS_KEY_PREFIX']}login:device-failures:{device}"


def _password_form_key(moderator: Moderator) -> str:
    prefix = current_app.config["REDIS_KEY_PREFIX"]
    return f"{prefix}login:password-form:{moderator.id}"


def device_used_up(device: str) -> bool:
    """True if the device cookie *device* has had its wrong passwords
    (``LOGIN_DEVICE_MAX_FAILURES`` within the window): from then on its
    browser is treated as unknown. False while Redis is down (its count is
    unknown; the per-address limits still bound it)."""
    try:
        failures = int(get_redis().get(_device_key(device)) or 0)
    except (RedisError, OSError):
        log.warning("device failure count unavailable: device cookie trusted")
        return False
    return failures >= current_app.config["LOGIN_DEVICE_MAX_FAILURES"]


def captcha_needed(username: str | None) -> bool:
    """True if a login as *username* needs a captcha answer now."""
    if _provider() == "none":
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


def _count(key: str) -> int:
    """Add one to the count at *key*, whose window starts at its first failure
    (SET NX EX), and return it.

    Raises:
        RedisError, OSError: Redis is unreachable.
    """
    with get_redis().pipeline() as pipe:
        pipe.set(key, 0, nx=True, ex=current_app.config["LOGIN_FAILURE_WINDOW"])
        pipe.incr(key)
        return int(pipe.execute()[1])


def _record_failure(username: str | None, device: str | None = None) -> None:
    # Under a device cookie the failure is that device's alone: strangers then
    # cannot raise the owner's counts, nor the owner's typos the account's.
    key = _key(username) if device is None else _device_key(device)
    try:
        _count(key)
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
    username: str,
    password: str,
    captcha_token: str | None,
    remote_ip: str | None,
    device: str | None = None,
) -> Moderator:
    """The moderator these credentials belong to, if the account's captcha (when
    needed) was answered. *device* is the browser's device cookie for this
    account, if it holds a good one (``devices.trusted_device``): then no
    captcha is asked and a failure counts against the device alone.

    Raises:
        CaptchaRequired: a captcha is needed and *captcha_token* is missing,
            wrong, used before, or could not be checked; the password was not
            checked.
        WrongCredentials: the username or password is wrong (counted).
    """
    if device is None and captcha_needed(username):
        _check_captcha(captcha_token, remote_ip)
    moderator = authenticate(username, password)
    if moderator is None:
        _record_failure(username, device)
        raise WrongCredentials(username)
    # A fresh allowance on the own-password form for this login's session.
    _forget(_password_form_key(moderator))
    return moderator


def _check_captcha(captcha_token: str | None, remote_ip: str | None) -> None:
    """Raises CaptchaRequired unless *captcha_token* answers the login captcha
    (our proof of work, or the configured provider's)."""
    if _provider() == "altcha":
        if not login_challenge.solved(captcha_token):
            raise CaptchaRequired("challenge not solved")
        return
    try:
        result = captcha.check(login_captcha(), captcha_token, remote_ip)
    except captcha.CaptchaRefused as error:
        raise CaptchaRequired(str(error)) from None
    # Provider trouble or a low score: no way to tell a person from a script.
    if result.outcome != Outcome.OK:
        raise CaptchaRequired(
            result.outcome.value,
            unavailable=result.outcome in (Outcome.UNAVAILABLE, Outcome.MISCONFIGURED),
        )


def change_own_password(moderator: Moderator, current: str, new: str) -> None:
    """``accounts.change_own_password``, guarded like login: every attempt is
    counted before the current password is checked (so parallel guesses are
    bounded too), a right one resets the count, a wrong one also counts as a
    failed login of the account; at ``PASSWORD_CHANGE_MAX_FAILURES`` every
    session of the moderator ends.

    Raises:
        PasswordFormLocked: that many wrong current passwords; sessions ended.
        GuardUnavailable: Redis is down (nothing was checked).
        ValidationFailed: see ``accounts.change_own_password``.
    """
    key = _password_form_key(moderator)
    try:
        attempt = _count(key)
    except (RedisError, OSError):
        log.warning("password form failure count unavailable: change refused")
        raise GuardUnavailable from None
    limit = current_app.config["PASSWORD_CHANGE_MAX_FAILURES"]
    if attempt > limit:
        accounts.end_sessions(moderator)
        raise PasswordFormLocked
    try:
        accounts.change_own_password(moderator, current, new)
    except ValidationFailed as error:
        if "current_password" not in error.fields:
            _forget(key)  # the current password was right
            raise
        _record_failure(moderator.username)
        if attempt >= limit:
            accounts.end_sessions(moderator)
            raise PasswordFormLocked from None
        raise
    _forget(key)


def _forget(key: str) -> None:
    try:
        get_redis().delete(key)
    except (RedisError, OSError):
        log.warning("could not reset the password form's failure count")


def widget() -> dict | None:
    """What the login page shows to ask for a captcha, or None if there is none:
    ``provider``, ``site_key``, ``script``, ``action`` and, for the dev
    provider, a fresh ``dev_token`` (ticking its box sends it); for ``altcha``,
    ``provider`` and a fresh ``challenge`` (JSON for the widget)."""
    if _provider() == "altcha":
        return {"provider": "altcha", "challenge": login_challenge.new_challenge()}
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

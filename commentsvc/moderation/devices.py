"""Device cookies (OWASP's defence against lockout by strangers).

A successful login gives the browser a signed cookie naming the account and a
random nonce. When that browser logs in as that account again, the login guard
trusts it: the per-account limit and the login captcha, which strangers'
guesses can use up, do not apply to it, and its own wrong passwords count
against its nonce alone (``login_guard.device_used_up``); a used-up device is
an unknown browser again until its next successful login. The cookie grants no
access by itself: the password is still checked. One cookie holds the devices
of the last few accounts logged in from that browser.
"""

import secrets

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .login_guard import account_name, device_used_up

COOKIE = "commentsvc_device"
SALT = "commentsvc.moderation.device"
# Accounts remembered per browser (a shared desk's few moderators).
MAX_ACCOUNTS = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _max_age() -> int:
    return current_app.config["LOGIN_DEVICE_DAYS"] * 86400


def _entries(cookie: str | None) -> list[tuple[str, str]]:
    """The (account, nonce) pairs of a cookie value; none if it is not ours,
    tampered with or too old."""
    if not cookie:
        return []
    try:
        raw = _serializer().loads(cookie, max_age=_max_age())
    except BadSignature:  # SignatureExpired included
        return []
    if not isinstance(raw, list):
        return []
    return [
        (entry[0], entry[1])
        for entry in raw
        if isinstance(entry, list)
        and len(entry) == 2
        and all(isinstance(part, str) for part in entry)
    ]


def trusted_device(username: str | None, cookie: str | None) -> str | None:
    """The nonce of *cookie*'s device for the account *username* names, if the
    cookie is ours, for that account, and the device has wrong passwords left;
    else None (an unknown browser)."""
    account = account_name(username)
    for name, nonce in _entries(cookie):
        if name == account:
            return None if device_used_up(nonce) else nonce
    return None


def request_device() -> str | None:
    """``trusted_device`` for this login request (its form's username and its
    cookie), worked out once per request: the rate limiter and the view ask."""
    if "login_device" not in g:
        g.login_device = trusted_device(
            request.form.get("username"), request.cookies.get(COOKIE)
        )
    return g.login_device


def remember(response, username: str) -> None:
    """Give the browser of this successful login a device cookie for the
    account (a fresh nonce: a fresh allowance), keeping its other accounts."""
    account = account_name(username)
    kept = [
        [name, nonce]
        for name, nonce in _entries(request.cookies.get(COOKIE))
        if name != account
    ]
    entries = [[account, secrets.token_urlsafe(16)], *kept][:MAX_ACCOUNTS]
    response.set_cookie(
        COOKIE,
        _serializer().dumps(entries),
        max_age=_max_age(),
        path="/moderation",
        secure=current_app.session_interface.get_cookie_secure(current_app),
        httponly=True,
        samesite="Lax",
    )

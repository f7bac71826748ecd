"""Strangers' guesses cannot lock the owner out (OWASP's device cookies).

Without a login captcha (production's default), wrong passwords for an account
from browsers it never logged in from are limited per account: a stranger can
use that limit up. A browser that logged in as that moderator before holds a
signed device cookie and keeps its own allowance: strangers' failures do not
count against it, and its own failures count against it alone.
"""

import pytest
from crawl import csrf_from

from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"
DEVICE = "commentsvc_device"


@pytest.fixture
def production_app(make_app):
    app = make_app()
    # The default production install: no login captcha.
    assert app.config["LOGIN_CAPTCHA_PROVIDER"] == "none"
    with app.app_context():
        create_moderator("owner", PASSWORD)
        create_moderator("other", PASSWORD)
    return app


def _attempt(client, password, ip, username="owner"):
    page = client.get("/moderation/login").get_data(as_text=True)
    return client.post(
        "/moderation/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(page),
        },
        environ_base={"REMOTE_ADDR": ip},
    )


def _log_out(client):
    token = csrf_from(client.get("/moderation/queue").get_data(as_text=True))
    assert (
        client.post("/moderation/logout", data={"csrf_token": token}).status_code == 302
    )


def _owners_browser(app, username="owner"):
    """A browser the owner logged in from before (and logged out of since)."""
    browser = app.test_client()
    assert _attempt(browser, PASSWORD, "203.0.113.7", username).status_code == 302
    assert browser.get_cookie(DEVICE, path="/moderation") is not None
    _log_out(browser)
    return browser


def _strangers_guess(app, ip="198.51.100.1", count=8):
    stranger = app.test_client()
    return [
        _attempt(stranger, f"guess number {n}", ip).status_code for n in range(count)
    ]


def test_a_login_gives_the_browser_a_device_cookie(production_app):
    browser = production_app.test_client()
    response = _attempt(browser, PASSWORD, "203.0.113.7")
    cookies = response.headers.getlist("Set-Cookie")
    [device] = [c for c in cookies if c.startswith(DEVICE + "=")]
    assert "HttpOnly" in device and "SameSite=Lax" in device
    assert "Path=/moderation" in device and "Expires=" in device
    # A wrong password gives none.
    wrong = _attempt(production_app.test_client(), "a wrong one", "203.0.113.8")
    assert not any(
        c.startswith(DEVICE + "=") for c in wrong.headers.getlist("Set-Cookie")
    )


def test_strangers_guesses_do_not_lock_the_owners_browser_out(production_app):
    owner = _owners_browser(production_app)
    statuses = _strangers_guess(production_app)
    assert 429 in statuses  # the per-account limit stopped the stranger
    # The owner, from another address, with their browser's device cookie: in.
    response = _attempt(owner, PASSWORD, "192.0.2.44")
    assert response.status_code == 302
    assert owner.get("/moderation/queue").status_code == 200
    # A fresh browser (no device cookie) is the stranger's kind: still limited
    # while the account is guessed at (docs/security.md says so).
    fresh = _attempt(production_app.test_client(), PASSWORD, "192.0.2.45")
    assert fresh.status_code == 429


def test_failures_under_a_device_cookie_count_against_that_device_only(make_app):
    app = make_app(LOGIN_DEVICE_MAX_FAILURES=3)
    with app.app_context():
        create_moderator("owner", PASSWORD)
    owner = _owners_browser(app)
    # The device's wrong passwords use up its own allowance, not the account's.
    statuses = [
        _attempt(owner, f"typo number {n}", f"192.0.2.{n + 1}").status_code
        for n in range(6)
    ]
    assert statuses[:3] == [401, 401, 401]
    # Its allowance used up, the device is treated like any unknown browser
    # (the per-account limit, 5 a minute, counts from here).
    assert statuses[3:] == [401, 401, 401]
    # The account's limit saw only the three after the device was used up, so
    # the owner still gets in (and the browser a fresh device cookie)...
    assert _attempt(owner, PASSWORD, "192.0.2.10").status_code == 302
    _log_out(owner)
    # ...and that new cookie has its own allowance again.
    assert _attempt(owner, "a typo again", "192.0.2.12").status_code == 401
    assert _attempt(owner, PASSWORD, "192.0.2.13").status_code == 302


def test_a_device_cookie_is_for_its_own_account(production_app):
    other_browser = _owners_browser(production_app, username="other")
    assert 429 in _strangers_guess(production_app)
    # A device cookie of "other" gives no allowance on "owner".
    assert _attempt(other_browser, PASSWORD, "192.0.2.44").status_code == 429
    # A forged one neither.
    forged = production_app.test_client()
    forged.set_cookie(DEVICE, "forged.value.here", path="/moderation")
    assert _attempt(forged, PASSWORD, "192.0.2.45").status_code == 429


def test_the_device_cookie_follows_the_name_as_login_reads_it(production_app):
    owner = _owners_browser(production_app)
    assert 429 in _strangers_guess(production_app)
    assert _attempt(owner, PASSWORD, "192.0.2.44", username=" Owner ").status_code in (
        401,  # usernames are case-sensitive at login...
    )
    assert _attempt(owner, PASSWORD, "192.0.2.44", username=" owner ").status_code == (
        302  # ...and a space around the name is not part of it
    )


def test_a_used_up_device_is_an_unknown_browser_again(make_app):
    # Three a minute for the account: the owner's first login was one of them.
    app = make_app(LOGIN_DEVICE_MAX_FAILURES=2, RATELIMIT_LOGIN_ACCOUNT="3/minute")
    with app.app_context():
        create_moderator("owner", PASSWORD)
    owner = _owners_browser(app)
    statuses = [
        _attempt(owner, f"typo number {n}", f"192.0.2.{n + 1}").status_code
        for n in range(5)
    ]
    # Two on the device's allowance, two on the account's, then its limit.
    assert statuses == [401, 401, 401, 401, 429]


def test_with_a_login_captcha_the_device_skips_it_and_keeps_its_typos(make_app):
    app = make_app(CAPTCHA_DEV_ENABLED=True, LOGIN_CAPTCHA_AFTER=2)
    with app.app_context():
        create_moderator("owner", PASSWORD)
    owner = _owners_browser(app)
    # The owner's typos on their own browser do not put the account under a
    # captcha for everyone else...
    for n in range(3):
        assert _attempt(owner, f"typo number {n}", "192.0.2.1").status_code == 401
    fresh = app.test_client()
    assert _attempt(fresh, PASSWORD, "192.0.2.2").status_code == 302
    # ...and strangers' guesses, which do, ask the owner's browser for nothing.
    _strangers_guess(app, count=3)
    asked = _attempt(app.test_client(), PASSWORD, "192.0.2.3")
    assert "Answer the captcha to log in." in asked.get_data(as_text=True)
    assert _attempt(owner, PASSWORD, "192.0.2.4").status_code == 302

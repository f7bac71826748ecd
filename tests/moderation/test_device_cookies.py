"""Strangers' guesses cannot lock the owner out (OWASP's device cookies, and
the login's own proof of work).

A browser that logged in as that moderator before holds a signed device cookie
and keeps its own allowance: strangers' failures do not count against it, and
its own failures count against it alone. Other browsers: in production's
default configuration (the built-in "altcha" challenge) an account under attack
asks them for a proof of work, which the owner's fresh browser solves; with no
login captcha at all ("none") they share the per-account limit strangers can
use up.
"""

import pytest
from crawl import csrf_from

from commentsvc.moderation.accounts import create_moderator

from .challenge import challenge_in, solve

PASSWORD = "correct horse battery"
DEVICE = "commentsvc_device"


@pytest.fixture
def production_app(make_app):
    app = make_app(LOGIN_CHALLENGE_COST=100)
    # The default production install: no third-party captcha, our own challenge.
    assert app.config["LOGIN_CAPTCHA_PROVIDER"] == "altcha"
    with app.app_context():
        create_moderator("owner", PASSWORD)
        create_moderator("other", PASSWORD)
    return app


@pytest.fixture
def app_without_captcha(make_app):
    app = make_app(LOGIN_CAPTCHA_PROVIDER="none")
    with app.app_context():
        create_moderator("owner", PASSWORD)
        create_moderator("other", PASSWORD)
    return app


def _attempt(client, password, ip, username="owner", answer=None):
    page = client.get("/moderation/login").get_data(as_text=True)
    data = {"username": username, "password": password, "csrf_token": csrf_from(page)}
    if answer:
        data["altcha"] = answer  # the widget's field
    return client.post("/moderation/login", data=data, environ_base={"REMOTE_ADDR": ip})


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


def test_strangers_guesses_do_not_lock_the_owner_out(production_app):
    """The exact scenario, in the default production configuration."""
    owner = _owners_browser(production_app)
    # From one address the per-account-and-address limit answers 429 from the
    # sixth; from the fifth wrong password on, the account asks unknown
    # browsers for the challenge.
    assert _strangers_guess(production_app)[5:] == [429, 429, 429]
    # The owner, from another address, with their browser's device cookie: in
    # at once, no challenge.
    response = _attempt(owner, PASSWORD, "192.0.2.44")
    assert response.status_code == 302
    assert owner.get("/moderation/queue").status_code == 200
    # A fresh browser (no device cookie) is asked for the proof of work...
    fresh = production_app.test_client()
    asked = _attempt(fresh, PASSWORD, "192.0.2.45")
    assert asked.status_code == 401
    page = asked.get_data(as_text=True)
    assert "Answer the captcha to log in." in page and challenge_in(page)
    # ...and once its widget solved it, it is in.
    in_ = _attempt(fresh, PASSWORD, "192.0.2.45", answer=solve(page))
    assert in_.status_code == 302


def test_each_guess_costs_a_challenge_answered_once(production_app):
    _strangers_guess(production_app)
    stranger = production_app.test_client()
    page = _attempt(stranger, "guess again", "198.51.100.9").get_data(as_text=True)
    answer = solve(page)
    checked = _attempt(stranger, "guess again", "198.51.100.9", answer=answer)
    assert "Wrong username or password." in checked.get_data(as_text=True)
    # The same answer twice, a forged one, none: no password check.
    for replay in (answer, "bm90IGFuIGFuc3dlcg==", None):
        refused = _attempt(
            production_app.test_client(), PASSWORD, "192.0.2.9", answer=replay
        )
        assert refused.status_code == 401
        assert "Answer the captcha to log in." in refused.get_data(as_text=True)


def test_without_any_captcha_the_device_still_gets_in(app_without_captcha):
    owner = _owners_browser(app_without_captcha)
    statuses = _strangers_guess(app_without_captcha)
    assert 429 in statuses  # the per-account limit stopped the stranger
    assert _attempt(owner, PASSWORD, "192.0.2.44").status_code == 302
    # A fresh browser is the stranger's kind here: limited while the account
    # is guessed at (docs/security.md says so).
    fresh = _attempt(app_without_captcha.test_client(), PASSWORD, "192.0.2.45")
    assert fresh.status_code == 429


def test_failures_under_a_device_cookie_count_against_that_device_only(make_app):
    app = make_app(LOGIN_CAPTCHA_PROVIDER="none", LOGIN_DEVICE_MAX_FAILURES=3)
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


def test_a_device_cookie_is_for_its_own_account(app_without_captcha):
    other_browser = _owners_browser(app_without_captcha, username="other")
    assert 429 in _strangers_guess(app_without_captcha)
    # A device cookie of "other" gives no allowance on "owner".
    assert _attempt(other_browser, PASSWORD, "192.0.2.44").status_code == 429
    # A forged one neither.
    forged = app_without_captcha.test_client()
    forged.set_cookie(DEVICE, "forged.value.here", path="/moderation")
    assert _attempt(forged, PASSWORD, "192.0.2.45").status_code == 429


def test_the_device_cookie_follows_the_name_as_login_reads_it(app_without_captcha):
    owner = _owners_browser(app_without_captcha)
    assert 429 in _strangers_guess(app_without_captcha)
    assert _attempt(owner, PASSWORD, "192.0.2.44", username=" Owner ").status_code in (
        401,  # usernames are case-sensitive at login...
    )
    assert _attempt(owner, PASSWORD, "192.0.2.44", username=" owner ").status_code == (
        302  # ...and a space around the name is not part of it
    )


def test_a_used_up_device_is_an_unknown_browser_again(make_app):
    # Three a minute for the account: the owner's first login was one of them.
    app = make_app(
        LOGIN_CAPTCHA_PROVIDER="none",
        LOGIN_DEVICE_MAX_FAILURES=2,
        RATELIMIT_LOGIN_ACCOUNT="3/minute",
    )
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

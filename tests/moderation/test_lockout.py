"""Guessing a moderator's password cannot lock the owner out, and stays bounded.

After LOGIN_CAPTCHA_AFTER wrong passwords for an account (from anywhere), its
login needs a captcha (here the built-in dev provider): the owner answers it and
logs in from any address; a guesser from many addresses gets no more password
checks without answering one each time.
"""

import re

from crawl import csrf_from

from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"
CAPTCHA = re.compile(r'name="captcha_token" value="([^"]+)"')


def _app(make_app, **overrides):
    overrides.setdefault("CAPTCHA_DEV_ENABLED", True)
    app = make_app(**overrides)
    with app.app_context():
        create_moderator("admin", PASSWORD)
    return app


def _attempt(client, password, ip, captcha_token=None, username="admin"):
    page = client.get("/moderation/login").get_data(as_text=True)
    data = {"username": username, "password": password, "csrf_token": csrf_from(page)}
    if captcha_token:
        data["captcha_token"] = captcha_token
    return client.post("/moderation/login", data=data, environ_base={"REMOTE_ADDR": ip})


def _checked(response) -> bool:
    """True if the password was checked (a wrong one said so)."""
    return "Wrong username or password." in response.get_data(as_text=True)


def test_fifty_wrong_guesses_from_elsewhere_do_not_lock_the_owner_out(make_app):
    app = _app(make_app)
    attacker = app.test_client()
    for n in range(50):
        response = _attempt(attacker, f"guess number {n}", ip=f"198.51.100.{n + 1}")
        assert response.status_code != 429

    owner = app.test_client()
    first = _attempt(owner, PASSWORD, ip="203.0.113.7")
    # The right password alone is not enough once the account is under attack
    # (else the answer would tell the guesser it is right)...
    assert first.status_code == 401
    page = first.get_data(as_text=True)
    assert "Answer the captcha to log in." in page
    # ...and with the captcha answered, the owner is in at once.
    token = CAPTCHA.search(page).group(1)
    response = _attempt(owner, PASSWORD, ip="203.0.113.7", captcha_token=token)
    assert response.status_code == 302
    assert owner.get("/moderation/queue").status_code == 200


def test_guessing_from_many_addresses_is_bounded_without_the_captcha(make_app):
    app = _app(make_app, LOGIN_CAPTCHA_AFTER=5)
    client = app.test_client()
    responses = [
        _attempt(client, f"guess number {n}", ip=f"10.{n // 250}.{n % 250}.1")
        for n in range(200)
    ]
    assert [r.status_code for r in responses] == [401] * 200
    # 200 guesses from 200 addresses: only the first 5 had their password checked.
    assert sum(_checked(r) for r in responses) == 5
    assert all(
        "Answer the captcha to log in." in r.get_data(as_text=True)
        for r in responses[5:]
    )
    # The right password without the captcha tells nothing and opens nothing.
    right = _attempt(client, PASSWORD, ip="10.9.9.9")
    assert right.status_code == 401
    assert not _checked(right)
    assert client.get("/moderation/queue").status_code == 302


def test_each_further_guess_costs_a_captcha_answered_once(make_app):
    app = _app(make_app, LOGIN_CAPTCHA_AFTER=1)
    client = app.test_client()
    assert _checked(_attempt(client, "first guess!", ip="192.0.2.1"))
    page = _attempt(client, "second guess", ip="192.0.2.2").get_data(as_text=True)
    token = CAPTCHA.search(page).group(1)
    assert _checked(_attempt(client, "second guess", "192.0.2.2", token))
    # A captcha answer is good once: replaying it checks no password.
    replay = _attempt(client, "third guess!", "192.0.2.3", token)
    assert not _checked(replay)
    assert "Answer the captcha to log in." in replay.get_data(as_text=True)
    forged = _attempt(client, "fourth guess", "192.0.2.4", "forged-token")
    assert not _checked(forged)


def test_unknown_usernames_get_the_same_captcha(make_app):
    """The captcha appears for any name guessed at: it does not tell which
    accounts exist."""
    app = _app(make_app, LOGIN_CAPTCHA_AFTER=2)
    client = app.test_client()
    for username in ("admin", "nobody"):
        for n in range(2):
            assert _checked(
                _attempt(client, f"guess {n}!!", "192.0.2.1", None, username)
            )
        third = _attempt(client, "guess 3!!", "192.0.2.1", None, username)
        assert "Answer the captcha to log in." in third.get_data(as_text=True)


def test_one_address_is_limited_per_account_and_across_accounts(make_app):
    app = _app(make_app, RATELIMIT_LOGIN_ACCOUNT_IP="3/minute", LOGIN_CAPTCHA_AFTER=100)
    with app.app_context():
        create_moderator("other", PASSWORD)
    client = app.test_client()
    statuses = [
        _attempt(client, "guess guess", "192.0.2.1").status_code for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    # The same address may still log in to another account (its own limit)...
    assert _attempt(client, PASSWORD, "192.0.2.1", username="other").status_code == 302
    # ...and the owner from elsewhere is not affected.
    assert _attempt(app.test_client(), PASSWORD, "192.0.2.2").status_code == 302


def test_the_captcha_is_needed_again_after_a_login_only_if_still_attacked(make_app):
    """The failure count is per account and day: logging in does not reset it, so
    a guesser gets no fresh free guesses each time the owner logs in."""
    app = _app(make_app, LOGIN_CAPTCHA_AFTER=1)
    client = app.test_client()
    _attempt(client, "a wrong one", "192.0.2.1")
    page = _attempt(client, PASSWORD, "192.0.2.5").get_data(as_text=True)
    token = CAPTCHA.search(page).group(1)
    assert _attempt(client, PASSWORD, "192.0.2.5", token).status_code == 302
    again = _attempt(app.test_client(), "another wrong", "192.0.2.1")
    assert not _checked(again)


def test_a_real_provider_guards_the_login_and_its_outage_opens_nothing(make_app):
    from captcha_standin import SECRET, CaptchaStandIn

    with CaptchaStandIn() as standin:
        app = _app(
            make_app,
            LOGIN_CAPTCHA_PROVIDER="hcaptcha",
            LOGIN_CAPTCHA_SITE_KEY="login-site-key",
            LOGIN_CAPTCHA_SECRET=SECRET,
            LOGIN_CAPTCHA_AFTER=1,
            **standin.config(),
        )
        client = app.test_client()
        _attempt(client, "a wrong one", "192.0.2.1")
        asked = _attempt(client, PASSWORD, "192.0.2.2")
        page = asked.get_data(as_text=True)
        assert 'class="h-captcha" data-sitekey="login-site-key"' in page
        assert "https://js.hcaptcha.com/1/api.js" in page
        assert (
            "frame-src https://hcaptcha.com" in asked.headers["Content-Security-Policy"]
        )
        assert SECRET not in page

        def with_token(token):
            page = client.get("/moderation/login").get_data(as_text=True)
            data = {
                "username": "admin",
                "password": PASSWORD,
                "csrf_token": csrf_from(page),
                "h-captcha-response": token,
            }
            return client.post("/moderation/login", data=data)

        standin.mode = "error500"
        down = with_token(standin.issue("hcaptcha"))
        assert down.status_code == 401
        assert "could not be checked" in down.get_data(as_text=True)
        standin.mode = "normal"
        assert with_token(standin.issue("hcaptcha")).status_code == 302


def test_a_login_captcha_without_its_keys_stops_the_app(make_app):
    import pytest

    from commentsvc.config import ConfigError

    with pytest.raises(ConfigError, match="LOGIN_CAPTCHA_SITE_KEY"):
        make_app(LOGIN_CAPTCHA_PROVIDER="turnstile")
    with pytest.raises(ConfigError, match="CAPTCHA_DEV_ENABLED"):
        make_app(LOGIN_CAPTCHA_PROVIDER="dev")


def test_with_redis_down_moderators_still_log_in(make_app):
    app = _app(make_app, REDIS_URL="redis://127.0.0.1:1/0", LOGIN_CAPTCHA_AFTER=1)
    client = app.test_client()
    assert _checked(_attempt(client, "a wrong one", "192.0.2.1"))
    assert _attempt(client, PASSWORD, "192.0.2.2").status_code == 302


def test_a_username_with_a_nul_byte_is_a_wrong_login_not_a_500(make_app):
    app = _app(make_app)
    response = _attempt(app.test_client(), PASSWORD, "192.0.2.1", username="ad\x00min")
    assert response.status_code == 401
    assert _checked(response)


def test_failures_count_for_the_name_as_login_reads_it(make_app):
    """Login takes "admin " for "admin": its failures must count for "admin" too,
    else padding the name with spaces gives a guesser fresh tries."""
    app = _app(make_app, LOGIN_CAPTCHA_AFTER=3)
    client = app.test_client()
    for n, name in enumerate(("admin ", " admin", "\tadmin ")):
        assert _checked(_attempt(client, f"guess {n}!!", f"192.0.2.{n}", None, name))
    for name in ("admin", "admin  ", "Admin"):
        response = _attempt(client, PASSWORD, "192.0.2.9", None, name)
        assert "Answer the captcha to log in." in response.get_data(as_text=True)
        assert not _checked(response)


def test_the_account_limit_counts_the_name_as_login_reads_it(make_app):
    app = _app(make_app, LOGIN_CAPTCHA_PROVIDER="none", RATELIMIT_LOGIN_ACCOUNT="3/day")
    client = app.test_client()
    for n, name in enumerate(("admin ", " admin", "ADMIN")):
        _attempt(client, f"guess {n}!!", f"192.0.2.{n}", None, name)
    assert _attempt(client, PASSWORD, "192.0.2.9").status_code == 429

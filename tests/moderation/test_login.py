"""Moderator login: sessions, CSRF, safe redirects and rate limits."""

import re

import pytest
from factories import make_site

from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"


@pytest.fixture
def moderator(app):
    with app.app_context():
        make_site()
        create_moderator("mod", PASSWORD, site_slugs=["news"])


def csrf_token(client, path="/moderation/login", base_url=None) -> str:
    page = client.get(path, base_url=base_url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def log_in(
    client, username="mod", password=PASSWORD, query="", ip="192.0.2.10", base_url=None
):
    token = csrf_token(client, base_url=base_url)
    return client.post(
        "/moderation/login" + query,
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
        base_url=base_url,
        # Over HTTPS Flask-WTF also checks that the Referer is this site.
        headers={"Referer": f"{base_url or 'http://localhost'}/moderation/login"},
    )


def test_login_opens_the_moderation_page(client, moderator):
    response = log_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/moderation/queue"
    page = client.get("/moderation/queue")
    assert page.status_code == 200
    assert "Example News" in page.get_data(as_text=True)


def test_session_cookie_is_httponly_lax_and_not_secure_over_http(client, moderator):
    response = log_in(client)
    [cookie] = [
        c
        for c in response.headers.getlist("Set-Cookie")
        if c.startswith("commentsvc_session=")
    ]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(app, moderator):
    client = app.test_client()
    response = log_in(client, base_url="https://comments.example")
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 2  # the session and the device cookie
    assert all("Secure" in cookie for cookie in cookies)


@pytest.mark.parametrize(
    ("username", "password"),
    [("mod", "wrong password!"), ("nobody", PASSWORD), ("MOD", PASSWORD)],
)
def test_wrong_credentials_are_refused(client, moderator, username, password):
    response = log_in(client, username, password)
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert client.get("/moderation/queue").status_code == 302


def test_inactive_moderator_cannot_log_in(app, client, moderator):
    from commentsvc.extensions import db
    from commentsvc.models import Moderator

    with app.app_context():
        db.session.execute(db.update(Moderator).values(active=False))
        db.session.commit()
    assert log_in(client).status_code == 401


def test_login_without_or_with_a_wrong_csrf_token_is_refused(client, moderator):
    for data in (
        {"username": "mod", "password": PASSWORD},
        {"username": "mod", "password": PASSWORD, "csrf_token": "forged"},
    ):
        response = client.post("/moderation/login", data=data)
        assert response.status_code == 400
    assert client.get("/moderation/queue").status_code == 302


def test_pages_need_a_login_and_come_back_after_it(client, moderator):
    response = client.get("/moderation/")
    assert response.status_code == 302
    assert "/moderation/login?next=%2Fmoderation%2F" in response.headers["Location"]
    response = log_in(client, query="?next=/moderation/")
    assert response.headers["Location"] == "/moderation/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\r\nevil",
    ],
)
def test_only_local_next_redirects(client, moderator, target):
    from urllib.parse import quote

    response = log_in(client, query="?next=" + quote(target, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == "/moderation/queue"


def test_logout_is_a_post_with_csrf(client, moderator):
    log_in(client)
    assert client.get("/moderation/logout").status_code == 405
    client.post("/moderation/logout", data={})  # no token: nothing happens
    assert client.get("/moderation/queue").status_code == 200
    token = csrf_token(client, "/moderation/queue")
    response = client.post("/moderation/logout", data={"csrf_token": token})
    assert response.headers["Location"] == "/moderation/login"
    assert client.get("/moderation/queue").status_code == 302


def test_login_is_limited_per_ip(make_app):
    app = make_app(RATELIMIT_LOGIN_IP="3/minute", RATELIMIT_LOGIN_ACCOUNT="100/minute")
    with app.app_context():
        create_moderator("mod", PASSWORD)
    client = app.test_client()
    statuses = [log_in(client, f"user{n}", "guess-guess").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = log_in(client, "mod", PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many requests" in refused.get_data(as_text=True)
    # Another address is not affected.
    assert log_in(client, ip="192.0.2.11").status_code == 302


def test_login_is_limited_per_account_across_addresses(make_app):
    # The per-account limit applies when the login has no captcha at all.
    app = make_app(
        LOGIN_CAPTCHA_PROVIDER="none",
        RATELIMIT_LOGIN_IP="100/minute",
        RATELIMIT_LOGIN_ACCOUNT="2/minute",
    )
    with app.app_context():
        create_moderator("mod", PASSWORD)
        create_moderator("other", PASSWORD)
    client = app.test_client()
    statuses = [
        log_in(client, "mod", "guess-guess", ip=f"192.0.2.{n}").status_code
        for n in range(1, 4)
    ]
    assert statuses == [401, 401, 429]
    assert log_in(client, "other", PASSWORD, ip="192.0.2.50").status_code == 302


def test_a_refused_form_is_logged_with_the_host_and_referrer(app, moderator, caplog):
    # Behind a proxy that forwards the Host without its port, the login over
    # HTTPS on :8443 answered only "The referrer does not match the host.";
    # the log now says which host and referrer disagreed.
    client = app.test_client()
    base_url = "https://comments.example"
    token = csrf_token(client, base_url=base_url)
    with caplog.at_level("WARNING", logger="commentsvc.errors"):
        response = client.post(
            "/moderation/login",
            data={"username": "mod", "password": PASSWORD, "csrf_token": token},
            base_url=base_url,
            headers={"Referer": "https://comments.example:8443/moderation/login"},
        )
    assert response.status_code == 400
    assert "referrer does not match" in response.get_data(as_text=True)
    [record] = [r for r in caplog.records if r.name == "commentsvc.errors"]
    message = record.getMessage()
    assert "host comments.example" in message
    assert "referrer https://comments.example:8443/moderation/login" in message

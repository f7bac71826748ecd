"""OpenID Connect sign-in through the whole redirect flow, with a real HTTP
client against the app and a real local provider (tests/oidc_provider.py):
start -> the provider's login form -> callback -> back on the article with
the session in the fragment; the state and its cookie."""

import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import itsdangerous.timed
import requests
import sqlalchemy as sa
from factories import comment_payload
from oidc_signin import FRAGMENT, accounts_of, assert_refused_page, token_of

from commentsvc.accounts import oidc_flows
from commentsvc.extensions import db
from commentsvc.models import Account, Comment, ReaderSession


def test_a_reader_signs_in_at_the_provider_and_comes_back_signed_in(app, flow):
    session = requests.Session()

    response = flow.sign_in(session)

    assert response.status_code == 200
    assert response.url.startswith(flow.article)
    assert response.history[-1].status_code == 303
    location = response.history[-1].headers["Location"]
    assert location.startswith(flow.article + FRAGMENT)
    assert response.history[-1].headers["Referrer-Policy"] == "no-referrer"
    (account,) = accounts_of(app)
    assert (account.provider, account.subject) == ("oidc", "sub-ada")
    assert (account.name, account.email) == ("Ada Lovelace", "ada@example.org")
    # PKCE: the code went back with its verifier; the flow's cookie is gone.
    assert flow.provider.token_requests[0]["code_verifier"]
    assert oidc_flows.COOKIE not in session.cookies


def test_me_shows_the_reader_signed_in(flow):
    token = token_of(flow.sign_in(requests.Session()))

    response = requests.get(
        f"{flow.service.url}/api/v1/sites/news/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )

    assert response.status_code == 200, response.text
    account = response.json()["account"]
    assert (account["provider"], account["name"]) == ("oidc", "Ada Lovelace")
    assert account["email"] == "ada@example.org"


def test_the_session_posts_as_the_signed_in_account(app, flow):
    token = token_of(flow.sign_in(requests.Session()))
    payload = comment_payload(author=None, email=None, url=flow.article)

    response = requests.post(
        f"{flow.service.url}/api/v1/sites/news/comments",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )

    assert response.status_code == 202, response.text
    with app.app_context():
        comment = db.session.scalars(sa.select(Comment)).one()
        account = db.session.get(Account, comment.account_id)
        assert (account.provider, account.subject) == ("oidc", "sub-ada")
        assert comment.author == "Ada Lovelace"


def test_signing_in_again_finds_the_same_account_with_today_s_name(app, flow):
    flow.sign_in(requests.Session())
    flow.user.name = "Ada King"

    flow.sign_in(requests.Session())

    (account,) = accounts_of(app)
    assert account.name == "Ada King"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReaderSession.id))) == 2


def test_the_listing_offers_the_provider_by_its_label(flow):
    response = requests.get(
        f"{flow.service.url}/api/v1/sites/news/comments",
        params={"thread": "/article"},
        timeout=10,
    )

    assert response.json()["config"]["sign_in"]["oidc"] == "Test ID"


def test_a_return_url_on_another_origin_is_refused_before_the_provider(flow):
    session = requests.Session()

    response = flow.start(session, return_url="https://evil.example/phish")

    assert_refused_page(response, 400, "does not lead back to a page of this site")
    assert not response.history  # never sent to the provider
    assert flow.provider.logins == 0


def test_a_tampered_state_is_refused(app, flow):
    session = requests.Session()
    callback = flow.callback_url(session)
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    query["state"] = ["forged-" + query["state"][0]]
    tampered = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))

    response = session.get(tampered, timeout=10)

    assert_refused_page(response, 400, "was not started here", back_to=flow.article)
    assert accounts_of(app) == []


def test_a_callback_in_another_browser_is_refused(app, flow):
    """Login CSRF: a link with someone's code and state signs no one in."""
    callback = flow.callback_url(requests.Session())

    response = requests.get(callback, timeout=10)

    assert_refused_page(response, 400, "was not started here")
    assert accounts_of(app) == []


def test_a_sign_in_left_more_than_ten_minutes_is_refused(app, flow, monkeypatch):
    session = requests.Session()
    callback = flow.callback_url(session)
    later = time.time() + oidc_flows.MAX_AGE + 5
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))

    response = session.get(callback, timeout=10)

    assert_refused_page(response, 400, "took too long")
    assert accounts_of(app) == []


def test_the_flow_cookie_is_short_lived_httponly_lax_and_for_auth_only(flow):
    response = flow.start(requests.Session(), allow_redirects=False)

    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(oidc_flows.COOKIE + "=")
    for attribute in ("Max-Age=600", "HttpOnly", "SameSite=Lax", "Path=/auth/"):
        assert attribute in cookie


def test_a_state_is_used_once(app, flow):
    session = requests.Session()
    callback = flow.callback_url(session)
    cookie = session.cookies.get(oidc_flows.COOKIE)
    assert session.get(callback, timeout=10).status_code == 200

    session.cookies.set(oidc_flows.COOKIE, cookie, path="/auth/")
    again = session.get(callback, timeout=10)

    # The code was spent at the provider: the replay signs no one in again.
    assert again.status_code in (400, 403)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReaderSession.id))) == 1


def test_two_tabs_sign_in_at_once_and_each_comes_back(app, flow):
    session = requests.Session()
    first = flow.start(session)
    second = flow.start(session, return_url=flow.article + "&tab=2")

    back_second = flow.login(session, second)
    back_first = flow.login(session, first)

    assert back_second.url.startswith(flow.article + "&tab=2")
    assert back_first.url.startswith(flow.article)
    assert FRAGMENT in back_first.history[-1].headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReaderSession.id))) == 2

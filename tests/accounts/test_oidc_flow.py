"""OpenID Connect sign-in through the whole redirect flow, with a real HTTP
client against the app and a real local provider (tests/oidc_provider.py):
start -> the provider's login form -> callback -> back on the article with
the session in the fragment; and each way it must refuse, with a page."""

import html
import re
import time
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import itsdangerous.timed
import pytest
import requests
import sqlalchemy as sa
from factories import comment_payload, get_site, make_site
from oidc_provider import OidcProvider, other_key
from servers import InBackground, loopback_http
from tcpproxy import free_port

from commentsvc import accounts
from commentsvc.accounts import oidc, oidc_flows
from commentsvc.extensions import db
from commentsvc.models import Account, Comment, ReaderSession

FRAGMENT = "#commentsvc-signin="


class ArticleSite(InBackground):
    """The news site readers come back to: every page is an article."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"<!doctype html><title>An article</title><p>News."
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._serve(loopback_http(Handler))
        self.origin = f"http://127.0.0.1:{self.port}"


class SignIn:
    """The site "news" on *service*, signing in with *provider*."""

    def __init__(self, app, service, provider, article):
        self.app = app
        self.service = service
        self.provider = provider
        self.article = article.origin + "/2026/news?id=7"
        self.callback = f"{service.url}/auth/news/oidc/callback"
        self.client = provider.add_client(self.callback)
        self.user = provider.add_user(
            "ada", sub="sub-ada", name="Ada Lovelace", email="Ada@Example.org"
        )
        with app.app_context():
            site = make_site(allowed_origins=[article.origin], captcha_provider="dev")
            self.configure(site, provider.issuer)

    def configure(self, site, issuer):
        accounts.change_settings(
            site.id,
            site.slug,
            oidc_issuer=issuer,
            oidc_client_id=self.client.client_id,
            oidc_client_secret=self.client.client_secret,
            oidc_label="Test ID",
        )

    def start(self, session, return_url=None, **kwargs):
        """GET the start URL, following redirects (to the provider's form)."""
        query = urlencode({"return": return_url or self.article})
        url = f"{self.service.url}/auth/news/oidc/start?{query}"
        return session.get(url, timeout=10, **kwargs)

    def login(self, session, form_page, decision="allow", follow=True, **fields):
        """Fill in the provider's login form on *form_page* and submit it."""
        action = html.unescape(re.search(r'action="([^"]+)"', form_page.text)[1])
        data = {"username": "ada", "password": "correct horse", **fields}
        data["decision"] = decision
        return session.post(
            self.provider.issuer + action,
            data=data,
            timeout=10,
            allow_redirects=follow,
        )

    def sign_in(self, session, **login):
        page = self.start(session)
        assert page.status_code == 200, page.text
        return self.login(session, page, **login)

    def callback_url(self, session):
        """Up to the provider's redirect to our callback (not followed)."""
        redirect = self.sign_in(session, follow=False)
        assert redirect.status_code == 302, redirect.text
        assert redirect.headers["Location"].startswith(self.callback)
        return redirect.headers["Location"]


@pytest.fixture
def provider():
    with OidcProvider() as provider:
        yield provider


@pytest.fixture
def article():
    with ArticleSite() as site:
        yield site


@pytest.fixture
def flow(app, live_server, provider, article):
    return SignIn(app, live_server, provider, article)


def token_of(response) -> str:
    """The session token the last redirect put in the article's fragment."""
    location = response.history[-1].headers["Location"]
    assert FRAGMENT in location, location
    return location.split(FRAGMENT, 1)[1]


def accounts_of(app) -> list:
    with app.app_context():
        return db.session.scalars(sa.select(Account)).all()


def assert_refused_page(response, status, words, back_to=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert words in response.text
    if back_to:
        assert f'href="{html.escape(back_to)}"' in response.text
    assert "commentsvc-signin" not in response.text


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


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": ["another-client"]},
        {"aud": ["another-client"], "azp": "commentsvc"},
        {"iss": "https://impostor.example"},
        {"exp": int(time.time()) - 600, "iat": int(time.time()) - 1200},
        {"nonce": "not-ours"},
    ],
    ids=["wrong-audience", "wrong-audience-right-azp", "issuer", "expired", "nonce"],
)
def test_an_id_token_failing_a_check_is_refused(app, flow, claims, log_lines):
    flow.provider.id_token_claims = claims

    response = flow.sign_in(requests.Session())

    assert_refused_page(response, 403, "could not be verified", back_to=flow.article)
    assert accounts_of(app) == []
    assert any("id_token" in line["message"] for line in log_lines())


def test_an_id_token_signed_with_another_key_is_refused(app, flow):
    flow.provider.sign_with = other_key()

    response = flow.sign_in(requests.Session())

    assert_refused_page(response, 403, "could not be verified")
    assert accounts_of(app) == []


def test_a_reader_who_denies_consent_is_told(app, flow):
    response = flow.sign_in(requests.Session(), decision="deny")

    assert_refused_page(response, 403, "did not let you sign in", back_to=flow.article)
    assert accounts_of(app) == []


def test_a_provider_that_is_down_at_the_start_is_a_page_not_a_500(app, flow, log_lines):
    with app.app_context():
        flow.configure(get_site(), f"http://127.0.0.1:{free_port()}")

    response = flow.start(requests.Session())

    assert_refused_page(response, 502, "could not be reached", back_to=flow.article)
    assert any("discovery" in line["message"] for line in log_lines())


def test_a_provider_that_goes_down_before_the_callback_is_a_page(app, flow):
    session = requests.Session()
    callback = flow.callback_url(session)
    flow.provider.__exit__(None, None, None)

    response = session.get(callback, timeout=10)

    assert_refused_page(response, 502, "could not be reached", back_to=flow.article)
    assert accounts_of(app) == []


@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri"])
def test_a_token_endpoint_or_jwks_that_is_down_is_a_page(app, flow, endpoint):
    session = requests.Session()
    callback = flow.callback_url(session)
    flow.provider.metadata = {endpoint: f"http://127.0.0.1:{free_port()}/x"}

    response = session.get(callback, timeout=10)

    assert_refused_page(response, 502, "could not be reached", back_to=flow.article)
    assert accounts_of(app) == []


def test_a_token_endpoint_that_refuses_the_code_is_a_page(app, flow):
    session = requests.Session()
    callback = flow.callback_url(session)
    flow.provider.codes.clear()  # as if the code had expired there

    response = session.get(callback, timeout=10)

    assert_refused_page(response, 403, "did not let you sign in")
    assert accounts_of(app) == []


def test_a_provider_whose_discovery_names_another_issuer_is_refused(app, flow):
    with app.app_context():
        flow.configure(get_site(), flow.provider.issuer + "/")

    response = flow.start(requests.Session())

    assert_refused_page(response, 502, "could not be reached")


def test_a_banned_account_is_not_signed_in(app, flow):
    flow.sign_in(requests.Session())
    with app.app_context():
        account = db.session.scalars(sa.select(Account)).one()
        account.banned = True
        db.session.commit()

    response = flow.sign_in(requests.Session())

    assert_refused_page(response, 403, "may no longer comment", back_to=flow.article)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReaderSession.id))) == 1


def test_a_site_without_a_provider_or_no_site_says_so(app, flow):
    with app.app_context():
        site = get_site()
        accounts.change_settings(site.id, site.slug, oidc_issuer=None)

    response = flow.start(requests.Session())
    missing = requests.get(f"{flow.service.url}/auth/nope/oidc/start", timeout=10)

    assert_refused_page(response, 404, "does not offer", back_to=flow.article)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "query",
    ["", "?state=x", "?code=x&state=", "?error=access_denied", "?state=%ff%00"],
)
def test_a_callback_out_of_nowhere_is_a_page(flow, query):
    response = requests.get(flow.callback + query, timeout=10)

    assert_refused_page(response, 400, "was not started here")


@pytest.mark.parametrize(
    "claims, expected",
    [
        ({"name": "Ada", "email": "a@x.org"}, ("Ada", "a@x.org")),
        ({"preferred_username": "ada99", "email": "a@x.org"}, ("ada99", "a@x.org")),
        ({"email": "ada.l@x.org"}, ("ada.l", "ada.l@x.org")),
        ({"name": "Ada", "email": "a@x.org", "email_verified": False}, ("Ada", None)),
        (
            {"name": "Ada", "email": "a@x.org", "email_verified": True},
            ("Ada", "a@x.org"),
        ),  # noqa: E501
        ({"name": "  ", "email": "not an address"}, ("Reader", None)),
        ({"name": "Ada\u202eEvil", "preferred_username": "ada"}, ("ada", None)),
    ],
)
def test_the_account_s_name_and_address_come_from_the_claims(claims, expected):
    found = oidc.identity({"sub": "s-1", **claims})

    assert (found.name, found.email) == expected


def test_an_issuer_must_be_https_except_on_this_machine():
    assert oidc.issuer_problem("https://accounts.google.com") is None
    assert oidc.issuer_problem("http://localhost:8080/realms/news") is None
    assert oidc.issuer_problem("http://idp.example") == "the issuer must use https"
    assert oidc.issuer_problem("https://idp.example/?x=1")

"""The OpenID Connect sign-in as a reader's HTTP client goes through it:
the news site readers come back to, and the steps against the app and the
local provider (tests/oidc_provider.py). Fixtures: tests/accounts/conftest.py."""

import html
import re
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlencode

import sqlalchemy as sa
from factories import make_site
from servers import InBackground, loopback_http

from commentsvc import accounts
from commentsvc.extensions import db
from commentsvc.models import Account

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

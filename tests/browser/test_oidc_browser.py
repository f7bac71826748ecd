"""OpenID Connect sign-in in Chromium: the reader follows the site's "Sign in
with" link, fills in the local provider's login form (on another site:
localhost, while the service and the article are on 127.0.0.1), and lands
back on the article signed in; a refusal is a page whose link goes back."""

from urllib.parse import quote, unquote

import pytest
import requests
import sqlalchemy as sa
from factories import comment_payload, make_site
from oidc_provider import PASSWORD, OidcProvider
from playwright.sync_api import expect

from commentsvc import accounts
from commentsvc.extensions import db
from commentsvc.models import Account, Comment

FRAGMENT = "#commentsvc-signin="


@pytest.fixture
def provider():
    with OidcProvider(host="localhost") as provider:
        yield provider


@pytest.fixture
def signed_site(service, article, provider):
    """The service, with the site "news" signing in at *provider*; returns
    (server, article URL)."""
    server = service()
    client = provider.add_client(f"{server.url}/auth/news/oidc/callback")
    provider.add_user("ada", sub="sub-ada", name="Ada Lovelace", email="ada@x.org")
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin], captcha_provider="dev")
        accounts.change_settings(
            site.id,
            site.slug,
            oidc_issuer=provider.issuer,
            oidc_client_id=client.client_id,
            oidc_client_secret=client.client_secret,
            oidc_label="Test ID",
        )
    return server, article.add(server, "news")


def start_url(server, article_url: str) -> str:
    return f"{server.url}/auth/news/oidc/start?return={quote(article_url, safe='')}"


def test_a_reader_signs_in_through_the_provider_s_form(signed_site, provider, page):
    server, article_url = signed_site
    page.goto(start_url(server, article_url))
    expect(page.get_by_role("heading")).to_have_text("Sign in to the test provider")
    assert page.url.startswith(provider.issuer + "/authorize?")

    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(lambda r: "/oidc/callback" in r.url) as callback:
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="An article")).to_be_visible()

    location = callback.value.headers["location"]
    assert location.startswith(article_url + FRAGMENT)
    assert page.url.split("#")[0] == article_url
    token = unquote(location.split(FRAGMENT, 1)[1])
    # The article's page asks who is signed in, as the embed does.
    me = page.evaluate(
        """async ([url, token]) => {
            const r = await fetch(url, {headers: {Authorization: "Bearer " + token}});
            return {status: r.status, body: await r.json()};
        }""",
        [f"{server.url}/api/v1/sites/news/me", token],
    )
    assert me["status"] == 200, me
    account = me["body"]["account"]
    assert (account["provider"], account["name"], account["email"]) == (
        "oidc",
        "Ada Lovelace",
        "ada@x.org",
    )
    # And the session signs the reader's posts.
    response = requests.post(
        f"{server.url}/api/v1/sites/news/comments",
        json=comment_payload(author=None, email=None, url=article_url),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    with server.app.app_context():
        comment = db.session.scalars(sa.select(Comment)).one()
        account = db.session.get(Account, comment.account_id)
        assert (account.provider, account.subject) == ("oidc", "sub-ada")


def test_a_refused_sign_in_is_a_page_that_leads_back(signed_site, provider, page):
    server, article_url = signed_site
    page.goto(start_url(server, article_url))

    page.get_by_role("button", name="Deny").click()

    expect(page.get_by_text("did not let you sign in")).to_be_visible()
    assert page.url.startswith(server.url + "/auth/news/oidc/callback")
    page.get_by_role("link", name="Back to the page").click()
    expect(page.get_by_role("heading", name="An article")).to_be_visible()
    assert page.url == article_url
    with server.app.app_context():
        assert db.session.scalars(sa.select(Account)).all() == []


def test_a_return_to_another_origin_never_reaches_the_provider(
    signed_site, provider, page
):
    server, _ = signed_site

    page.goto(start_url(server, "https://evil.example/phish"))

    refusal = page.get_by_text("does not lead back to a page of this site")
    expect(refusal).to_be_visible()
    assert page.url.startswith(server.url)
    assert provider.logins == 0

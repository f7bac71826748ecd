"""A moderator in a real browser: a signed-in reader's comment names its
account; the moderator approves it by replying as staff, then suspends the
account, and the reader's next post is refused with the end and the reason."""

import time

import jwt
import requests
import sqlalchemy as sa
from factories import comment_payload, make_site
from playwright.sync_api import expect

from commentsvc import accounts
from commentsvc.extensions import db
from commentsvc.models import Role, Site
from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"
SECRET = "a-test-secret-of-the-site-32-bytes-long!"


def _token():
    now = int(time.time())
    claims = {"sub": "u-7", "name": "Sam Subscriber", "aud": "news", "exp": now + 600}
    return jwt.encode(claims, SECRET)


def _post(server, body):
    payload = comment_payload(author=None, email=None, body=body)
    return requests.post(
        f"{server.url}/api/v1/sites/news/comments",
        json={**payload, "sso_token": _token()},
        headers={"Origin": "https://news.example"},
        timeout=5,
    )


def test_reply_as_staff_then_suspend_the_account(service, page):
    server = service()
    with server.app.app_context():
        make_site()
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        accounts.change_settings(news.id, news.slug, sso_secret=SECRET)
        create_moderator("mod", PASSWORD, site_slugs=["news"])
    assert _post(server, "Is this article up to date?").status_code == 202

    page.goto(server.url + "/moderation/queue")
    page.get_by_label("Username").fill("mod")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    card = page.locator("article.comment")
    expect(card).to_contain_text("A new account: 0 of its comments approved")
    account_link = card.locator("a.account")
    expect(account_link).to_contain_text("Sam Subscriber")
    account_url = account_link.get_attribute("href")

    comment_id = card.get_attribute("data-comment")
    # From the queue's card straight to the reply form.
    card.get_by_role("link", name="Reply as staff").click()
    page.wait_for_url(f"**/moderation/comments/{comment_id}#reply")
    page.get_by_label("Your reply").fill("Yes: we updated it this morning.")
    page.get_by_role("button", name="Approve and reply as staff").click()
    expect(page.get_by_text("is published, with the Staff badge")).to_be_visible()
    expect(page.locator("h1 .badge.staff")).to_have_text("Staff")

    listing = requests.get(
        f"{server.url}/api/v1/sites/news/comments?thread=/article", timeout=5
    ).json()["comments"]
    assert [(c["author"], c.get("badge")) for c in listing] == [
        ("Sam Subscriber", None),
        ("mod", "staff"),
    ]

    page.goto(server.url + account_url)
    page.get_by_label("Suspend for").select_option("7d")
    page.get_by_label("Reason (the reader is shown it)").first.fill("Off-topic again")
    page.get_by_role("button", name="Suspend", exact=True).click()
    expect(page.locator(".standing")).to_contain_text("Off-topic again")

    refused = _post(server, "One more question.")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "account_suspended"
    assert refused.json()["error"]["reason"] == "Off-topic again"


def test_the_new_sso_secret_survives_a_reload(service, page):
    """Rotate, then reload the page that shows the secret and save the
    settings: the secret shown is still the one in force."""
    server = service()
    with server.app.app_context():
        make_site()
        create_moderator("boss", PASSWORD, role=Role.ADMIN)
    settings = server.url + "/moderation/sites/news/settings"
    page.goto(settings)
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Create the SSO secret").click()
    page.wait_for_url("**/moderation/sites/news/sso-secret")
    secret = page.locator("#sso-secret").inner_text()

    page.reload()
    expect(page.get_by_text("The SSO secret is shown once")).to_be_visible()
    assert secret not in page.content()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()

    with server.app.app_context():
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        assert accounts.sign_in_settings(news.id, news.slug).sso_secret == secret
        assert news.allowed_origins == ["https://news.example"]

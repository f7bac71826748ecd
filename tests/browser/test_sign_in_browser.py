"""Readers who sign in, in Chromium: the site's own token (SSO) on the embed's
element, refusals that keep the text, guests remembered, staff badges."""

import json
import re
import time
from datetime import UTC, datetime
from urllib.parse import quote

import jwt
import sqlalchemy as sa
from factories import make_comment, make_site
from oidc_provider import PASSWORD
from playwright.sync_api import expect
from smtp_sink import SmtpSink

from commentsvc import accounts, sites
from commentsvc.accounts import sessions
from commentsvc.extensions import db
from commentsvc.mail import outbox
from commentsvc.models import Account, Comment, MailSubscription, Site

from .test_oidc_browser import provider, signed_site  # noqa: F401

SECRET = "a-test-secret-of-the-site-32-bytes-long!"


class RawUtf8(json.JSONEncoder):
    """JSON as JavaScript's JSON.stringify writes it: "ë" as UTF-8 bytes, not
    escaped (PyJWT escapes by default)."""

    def __init__(self, **options):
        super().__init__(**{**options, "ensure_ascii": False})


def sso_token(secret=SECRET, **claims) -> str:
    """A token the site's page signs for its logged-in user (docs/sso.md)."""
    now = int(time.time())
    body = {"sub": "u-42", "name": "Zoë Subscriber", "aud": "news", "iat": now}
    body["exp"] = now + 600
    body.update(claims)
    return jwt.encode(body, secret, json_encoder=RawUtf8)


def sso_site(server, article, comments=(), **sign_in):
    """Site "news" on the article's origin, with the dev captcha, taking the
    site's tokens; signed-in readers skip the captcha unless told otherwise.
    *comments*: (author, body, badge) stored and approved first."""
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin], min_submit_seconds=0)
        for author, body, badge in comments:
            make_comment(site, author=author, body=body).badge = badge
        db.session.commit()
        sites.update_site("news", captcha_provider="dev")
        sign_in = {"sso_secret": SECRET, "sso_skip_captcha": True, **sign_in}
        accounts.change_settings(site.id, site.slug, **sign_in)


def stored(app) -> list[Comment]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))


def test_a_reader_signed_in_by_the_site_posts_without_name_email_or_captcha(
    service, article, page
):
    server = service(CAPTCHA_DEV_ENABLED=True)
    sso_site(
        server,
        article,
        comments=[
            ("The Editors", "From the newsroom", "staff"),
            ("Ann", "Just a reader", None),
        ],
    )
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(
        article.add(server, "news", attributes={"data-commentsvc-sso": sso_token()})
    )
    embed = page.locator("#comments")

    # Staff comments wear a badge; others do not.
    newsroom = embed.locator("li", has_text="From the newsroom")
    expect(newsroom.locator("[part=badge]")).to_have_text("Staff")
    expect(
        embed.locator("li", has_text="Just a reader").locator(".badge")
    ).to_have_count(0)
    # The token's name (UTF-8 too), no name or e-mail fields.
    expect(embed.get_by_text("Signed in as Zoë Subscriber")).to_be_visible()
    # Still a first render of two requests to the service.
    page.wait_for_load_state("networkidle")
    assert [u for u in asked if u.startswith(server.url)] == [
        f"{server.url}/embed.js",
        f"{server.url}/api/v1/sites/news/comments?thread=%2Farticle",
    ]
    expect(embed.get_by_role("textbox", name="Name")).to_be_hidden()
    expect(embed.get_by_role("textbox", name="Email")).to_be_hidden()
    expect(embed.get_by_role("button", name="Sign in")).to_have_count(0)

    embed.get_by_role("textbox", name="Comment").fill("Signed in, I say so.")
    embed.get_by_role("button", name="Post Comment").click()

    mine = embed.locator("li.mine")
    expect(mine).to_contain_text("Zoë Subscriber")
    expect(mine).to_contain_text("Your comment is awaiting moderation.")
    # No captcha: neither its widget nor any of its scripts.
    expect(embed.get_by_label("I'm not a robot")).to_have_count(0)
    assert not [url for url in asked if "captcha" in url]
    [_, _, comment] = stored(server.app)
    assert (comment.author, comment.body) == ("Zoë Subscriber", "Signed in, I say so.")
    assert comment.signals["captcha"] == "signed_in"
    with server.app.app_context():
        account = db.session.get(Account, comment.account_id)
        assert (account.provider, account.subject) == ("sso", "u-42")


def test_forged_expired_and_other_site_tokens_are_refused_and_the_text_is_kept(
    service, article, page
):
    server = service(CAPTCHA_DEV_ENABLED=True)
    sso_site(server, article)
    with server.app.app_context():
        account = accounts.find_or_create(
            db.session.scalar(sa.select(Site.id)), "sso", "u-7", "Sue", None, None
        )
        account.suspended_until = datetime(2099, 3, 4, 12, 0, tzinfo=UTC)
        account.suspension_reason = "Personal attacks"
        db.session.commit()
    tokens = {
        "/forged": sso_token(secret="another-secret-entirely-of-32-bytes!!"),
        "/expired": sso_token(exp=int(time.time()) - 120),
        "/other-site": sso_token(aud="other-site"),
        "/suspended": sso_token(sub="u-7", name="Sue"),
    }
    urls = {
        path: article.add(
            server,
            "news",
            path=path,
            # One thread for the three pages: the draft follows the reader.
            attributes={"data-commentsvc-sso": token, "data-commentsvc-thread": "t"},
        )
        for path, token in tokens.items()
    }
    text = "Words I will not type twice."
    embed = page.locator("#comments")
    comment = embed.get_by_role("textbox", name="Comment")
    status = embed.locator("form .status")
    expected = {
        "/forged": "could not be checked",
        "/expired": "has expired: reload the page",
        "/other-site": "could not be checked",
        # When it ends (in the page's language) and why.
        "/suspended": "suspended from commenting until March 4, 2099",
    }

    page.goto(urls["/forged"])
    comment.fill(text)
    for path, words in expected.items():
        if path != "/forged":
            page.goto(urls[path])
            expect(status).to_have_text("Your unsent comment has been restored.")
        embed.get_by_role("button", name="Post Comment").click()
        expect(status).to_contain_text(words)
        expect(status).to_contain_text("Your comment is kept.")
        expect(status).to_have_class("status bad")
        expect(comment).to_have_value(text)
    expect(status).to_contain_text("Reason: Personal attacks")
    assert stored(server.app) == []


def test_a_guest_is_remembered_and_prefilled_in_a_reply(service, article, page):
    server = service()
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin], min_submit_seconds=0)
        make_comment(site, author="Bob", body="Reply to me")
    url = article.add(server, "news")
    page.goto(url)
    embed = page.locator("#comments")
    name = embed.get_by_role("textbox", name="Name")
    email = embed.get_by_role("textbox", name="Email")
    embed.get_by_role("textbox", name="Comment").fill("My first words here.")
    name.fill("Ann Guest")
    email.fill("ann@example.org")
    embed.get_by_role("button", name="Post Comment").click()
    expect(embed.locator("li.mine")).to_contain_text("awaiting moderation")

    page.reload()
    embed.get_by_role("button", name="Reply to Bob").click()
    expect(embed.get_by_text("Leave a Reply to Bob")).to_be_visible()
    expect(name).to_have_value("Ann Guest")
    expect(email).to_have_value("ann@example.org")
    # Sign-in is offered only where the site has a way (none here).
    expect(embed.get_by_role("button", name="Sign in")).to_have_count(0)


PUBLIC_URL = "http://comments.invalid"
SIGN_IN_LINK = re.compile(re.escape(PUBLIC_URL) + r"(/auth/news/email/[^\s\"<>]+)")


def sign_in_link(server, smtp, address: str) -> str:
    """The path of the sign-in link mailed to *address* (the real worker sends
    what is queued)."""
    if not smtp.to(address):
        result = server.app.test_cli_runner().invoke(args=["mail", "worker", "--once"])
        assert result.exit_code == 0, result.output
    [message] = smtp.to(address)
    text = message.get_body(("plain",)).get_content()
    return SIGN_IN_LINK.search(text).group(1)


def test_a_reader_signs_in_by_email_posts_then_downloads_and_deletes_their_data(
    service, article, page
):
    smtp = SmtpSink()
    smtp.start()
    try:
        server = service(
            MAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
            MAIL_FROM="comments@news.example",
            PUBLIC_URL=PUBLIC_URL,
        )
        with server.app.app_context():
            site = make_site(allowed_origins=[article.origin], min_submit_seconds=0)
            accounts.change_settings(
                site.id,
                site.slug,
                guests_allowed=False,
                email_sign_in=True,
                oidc_issuer="https://id.example",
                oidc_client_id="comments",
                oidc_label="Example ID",
            )
        url = article.add(server, "news")
        posts = []
        page.on("request", lambda r: r.url.endswith("/comments") and posts.append(r))
        page.goto(url)
        embed = page.locator("#comments")
        comment = embed.get_by_role("textbox", name="Comment")
        status = embed.locator("form .status")

        # No guests here: the form asks to sign in, and sends nothing before.
        expect(embed.get_by_text("Please sign in to comment.")).to_be_visible()
        expect(embed.get_by_role("textbox", name="Name")).to_be_hidden()
        comment.fill("Written before signing in.")
        embed.get_by_role("button", name="Post Comment").click()
        expect(status).to_have_text("Please sign in to comment.")
        assert [r for r in posts if r.method == "POST"] == []

        # The chooser, with the keyboard: the link by e-mail, or the provider.
        embed.get_by_role("button", name="Sign in").click()
        chooser = embed.locator("[part=account]")
        expect(chooser.get_by_role("heading", name="Sign in")).to_be_focused()
        oidc = chooser.get_by_role("link", name="Sign in with Example ID")
        expect(oidc).to_have_attribute(
            "href",
            f"{server.url}/auth/news/oidc/start?return={quote(url, safe='')}",
        )
        page.keyboard.press("Tab")
        page.keyboard.type("ann@example.org")
        page.keyboard.press("Tab")
        page.keyboard.type("Ann Mail")
        page.keyboard.press("Enter")
        expect(chooser).to_contain_text("Check your mailbox")

        # The link, opened in this browser: a page on the service, a button.
        page.goto(server.url + sign_in_link(server, smtp, "ann@example.org"))
        page.locator("form").get_by_role("button").click()
        page.wait_for_url(url)  # back, the session taken out of the URL
        expect(embed.get_by_text("Signed in as Ann Mail")).to_be_visible()
        assert "commentsvc-signin" not in page.evaluate("location.href")
        session = page.evaluate("localStorage.getItem('commentsvc:news:session')")
        assert json.loads(session)["n"] == "Ann Mail"

        expect(comment).to_have_value("Written before signing in.")
        embed.get_by_role("button", name="Post Comment").click()
        expect(embed.locator("li.mine")).to_contain_text("Ann Mail")
        [mine] = stored(server.app)
        with server.app.app_context():
            account = db.session.get(Account, mine.account_id)
            assert (account.provider, account.email) == ("email", "ann@example.org")

        # My account: their comments, their data as a file, then erasure.
        embed.get_by_role("button", name="My account").click()
        panel = embed.locator("[part=account]")
        expect(panel.get_by_role("heading", name="My comments")).to_be_visible()
        expect(panel).to_contain_text("Written before signing in.")
        expect(panel).not_to_contain_text("suspended")
        expect(panel).not_to_contain_text("null")
        with page.expect_download() as download:
            panel.get_by_role("button", name="Download my data").click()
        with open(download.value.path()) as saved:
            data = json.load(saved)
        assert "Written before signing in." in json.dumps(data)
        assert download.value.suggested_filename == "news-my-comments.json"

        panel.get_by_role("button", name="Delete my account and comments").click()
        keep = panel.get_by_role("button", name="Keep my account")
        expect(keep).to_be_focused()
        assert stored(server.app) != []  # nothing happens before the second click
        panel.get_by_role("button", name="Yes, delete my account and comments").click()
        expect(status).to_have_text("Your account and your comments are deleted.")
        expect(embed.get_by_text("Please sign in to comment.")).to_be_visible()
        assert page.evaluate("localStorage.getItem('commentsvc:news:session')") is None
        expect(embed).not_to_contain_text("Written before signing in.")
        [erased] = stored(server.app)
        assert (erased.body, erased.account_id) == ("[deleted]", None)
        with server.app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0
    finally:
        smtp.stop()


def test_a_session_from_the_fragment_then_sign_out_and_a_session_that_ended(
    service, article, page
):
    server = service()
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin], min_submit_seconds=0)
        thread_id = make_comment(site, author="Bob", body="Approved").thread_id
        account = accounts.find_or_create(
            site.id, "email", "rea@example.org", "Rea Der", "rea@example.org"
        )
        token, stale = sessions.issue(account.id), sessions.issue(account.id)
        # Suspended: may still read, download, sign out (posting is refused).
        account.suspended_until = datetime(2099, 3, 4, 12, 0, tzinfo=UTC)
        account.suspension_reason = "Off-topic floods"
        outbox.subscribe(site.id, "rea@example.org", thread_id)
        db.session.commit()
    url = article.add(server, "news")
    embed = page.locator("#comments")
    status = embed.locator("form .status")
    name = embed.get_by_role("textbox", name="Name")

    # As a sign-in comes back: the session in the fragment, taken out at once.
    page.goto(f"{url}#commentsvc-signin={token}")
    expect(embed.get_by_text("Signed in as Rea Der")).to_be_visible()
    assert page.evaluate("location.href") == url
    expect(name).to_be_hidden()

    embed.get_by_role("button", name="My account").click()
    panel = embed.locator("[part=account]")
    expect(panel.get_by_role("heading", name="Reply notifications")).to_be_visible()
    expect(panel).to_contain_text(
        "Your account is suspended from commenting until March 4, 2099"
    )
    expect(panel).to_contain_text("Reason: Off-topic floods")
    panel.get_by_role("button", name="Unsubscribe").click()
    expect(panel).to_contain_text("Unsubscribed.")
    with server.app.app_context():
        assert not db.session.scalar(sa.select(MailSubscription.active))

    panel.get_by_role("button", name="Sign out").click()
    expect(status).to_have_text("You are signed out.")
    expect(name).to_be_visible()
    assert page.evaluate("localStorage.getItem('commentsvc:news:session')") is None
    me = server.app.test_client().get(
        "/api/v1/sites/news/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 401

    # A session that ended elsewhere: told on posting, back to a guest's form,
    # the comment kept.
    session = json.dumps({"t": stale, "n": "Rea Der"})
    page.evaluate(f"localStorage.setItem('commentsvc:news:session', {session!r})")
    with server.app.app_context():
        sessions.end(stale)
        db.session.commit()
    page.reload()
    expect(embed.get_by_text("Signed in as Rea Der")).to_be_visible()
    embed.get_by_role("textbox", name="Comment").fill("Still mine.")
    embed.get_by_role("button", name="Post Comment").click()
    expect(status).to_have_text(
        "Your sign-in has ended: sign in again. Your comment is kept."
    )
    expect(name).to_be_visible()
    expect(embed.get_by_role("textbox", name="Comment")).to_have_value("Still mine.")
    assert len(stored(server.app)) == 1


def test_a_reader_signs_in_with_the_site_s_provider_from_the_embed(
    signed_site,  # noqa: F811 - the fixtures of test_oidc_browser
    provider,  # noqa: F811
    page,
):
    server, article_url = signed_site
    page.goto(article_url)
    embed = page.locator("#comments")
    embed.get_by_role("button", name="Sign in").click()
    embed.get_by_role("link", name=re.compile(r"^Sign in with ")).click()
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(embed.get_by_text("Signed in as Ada Lovelace")).to_be_visible()
    assert page.evaluate("location.href") == article_url
    expect(embed.get_by_role("button", name="My account")).to_be_visible()

"""What the form says about who is writing, in Chromium: an SSO reader's line
and their account; a site where only the site's own accounts may comment."""

import json

from factories import make_comment, make_site
from playwright.sync_api import expect

from commentsvc import accounts, sites

from .test_sign_in_browser import sso_site, sso_token

NOTE = "Your email address will not be published."


def test_an_sso_reader_reads_a_clean_line_and_opens_their_account_without_sign_out(
    service, article, page
):
    server = service()
    sso_site(server, article)
    token = sso_token(name="Dana Subscriber")
    page.goto(article.add(server, "news", attributes={"data-commentsvc-sso": token}))
    embed = page.locator("#comments")
    # No "undefined" after the name, and no guest's note about e-mail.
    expect(embed.locator("[part=signin]")).to_have_text(
        "Signed in as Dana Subscriber My account"
    )
    expect(embed.get_by_text(NOTE)).to_be_hidden()
    embed.get_by_role("textbox", name="Comment").fill("Mine, by the site's login.")
    embed.get_by_role("button", name="Post Comment").click()
    expect(embed.locator("li.mine")).to_contain_text("awaiting moderation")

    # The account panel works with the site's token as the bearer.
    me = []
    page.on("request", lambda r: "/me" in r.url and me.append(r))
    embed.get_by_role("button", name="My account").click()
    panel = embed.locator("[part=account]")
    expect(panel).to_contain_text("Mine, by the site's login.")
    assert me[0].headers["authorization"] == f"Bearer {token}"
    # Signing out of an SSO login is the site's business, not the embed's.
    expect(panel.get_by_role("button", name="Download my data")).to_be_visible()
    expect(panel.get_by_role("button", name="Sign out")).to_have_count(0)
    assert page.evaluate("localStorage.getItem('commentsvc:news:session')") is None


def test_a_guest_where_only_the_site_s_own_accounts_comment_is_told_to_log_in(
    service, article, page
):
    server = service(CAPTCHA_DEV_ENABLED=True)
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin])
        make_comment(site, author="Bob", body="Readable by all")
        sites.update_site("news", captcha_provider="dev")
        accounts.change_settings(site.id, site.slug, guests_allowed=False)
    asked = []
    page.on("request", lambda r: asked.append(r.url))
    strings = json.dumps({"logIn": "Log in at News to comment."})
    page.goto(
        article.add(server, "news", attributes={"data-commentsvc-strings": strings})
    )
    embed = page.locator("#comments")
    expect(embed.locator("[part=signin]")).to_have_text("Log in at News to comment.")
    expect(embed).to_contain_text("Readable by all")
    expect(embed).not_to_contain_text("null")
    for field in ("Comment", "Name", "Email"):
        expect(embed.get_by_role("textbox", name=field)).to_be_hidden()
    expect(embed.get_by_role("button", name="Post Comment")).to_be_hidden()
    expect(embed.get_by_role("button", name="Reply to Bob")).to_have_count(0)
    expect(embed.get_by_text(NOTE)).to_be_hidden()
    page.keyboard.press("Tab")  # nothing in the form takes focus, so no captcha
    page.wait_for_load_state("networkidle")
    assert not [url for url in asked if "captcha" in url or "form-token" in url]

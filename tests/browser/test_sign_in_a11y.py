"""The embed's sign-in chooser and account panel, in both themes and on a
320 px phone: axe-core finds no serious or critical violation in them."""

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from factories import make_comment, make_site
from playwright.sync_api import expect

from commentsvc import accounts
from commentsvc.accounts import sessions
from commentsvc.extensions import db
from commentsvc.models import MailMessage, SignInLink

AXE = Axe()
SERIOUS = ("serious", "critical")
MAIL = {
    # Mail "on" (the chooser offers e-mail); nothing is sent in this test.
    "MAIL_URL": "smtp://127.0.0.1:9",
    "MAIL_FROM": "News <comments@news.example>",
    "PUBLIC_URL": "https://comments.news.example",
}


def _serious(page) -> str:
    violations = AXE.run(page).response["violations"]
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:5])
        for v in violations
        if v["impact"] in SERIOUS
    )


# Light on a laptop, dark on a phone: the two ends (the suite's time is short).
@pytest.mark.parametrize("theme, width", [("light", 1280), ("dark", 320)])
def test_the_chooser_and_the_account_panel_pass_axe(
    service, article, page, theme, width
):
    server = service(**MAIL)
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin])
        make_comment(site, author="Bob", body="Approved").badge = "staff"
        accounts.change_settings(
            site.id,
            site.slug,
            email_sign_in=True,
            oidc_issuer="https://id.example",
            oidc_client_id="commentsvc",
            oidc_label="Example ID",
        )
        account = accounts.find_or_create(
            site.id, "email", "rea@example.org", "Rea Der", "rea@example.org"
        )
        token = sessions.issue(account.id)
        db.session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=theme)
    url = article.add(server, "news")
    embed = page.locator("#comments")

    page.goto(url)
    embed.get_by_role("button", name="Sign in").click()
    expect(embed.get_by_role("link", name="Sign in with Example ID")).to_be_visible()
    assert not (problems := _serious(page)), f"chooser ({theme}, {width}):\n{problems}"

    page.goto("about:blank")  # a sign-in comes back with a page load
    page.goto(f"{url}#commentsvc-signin={token}")
    expect(embed.get_by_text("Signed in as Rea Der")).to_be_visible()
    embed.get_by_role("button", name="My account").click()
    expect(embed.get_by_role("button", name="Download my data")).to_be_visible()
    assert not (problems := _serious(page)), f"panel ({theme}, {width}):\n{problems}"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_sign_in_link_page_is_themed_and_finger_sized(service, page, theme):
    server = service(**MAIL)
    with server.app.app_context():
        site = make_site(allowed_origins=["https://news.example"])
        accounts.change_settings(site.id, site.slug, email_sign_in=True)
        accounts.email.request_link(
            site, "rea@example.org", None, "https://news.example/a"
        )
        link = db.session.scalars(sa.select(SignInLink)).one()
        key = db.session.scalars(sa.select(MailMessage.data)).one()["k"]
        token = accounts.email.link_token(link.id, key)
    page.set_viewport_size({"width": 320, "height": 700})
    page.emulate_media(color_scheme=theme)

    page.goto(f"{server.url}/auth/news/email/{token}")

    button = page.get_by_role("button", name="Sign in")
    assert button.bounding_box()["height"] >= 44
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(24, 25, 27)") == (theme == "dark")
    assert not (problems := _serious(page)), f"link page ({theme}):\n{problems}"

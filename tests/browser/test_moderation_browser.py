"""A moderator in a real browser: log in, approve with the keyboard, and the
comment is public."""

import requests
import sqlalchemy as sa
from factories import make_comment, make_site

from commentsvc.extensions import db
from commentsvc.models import CommentStatus, Site
from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"


def test_log_in_approve_with_the_keyboard_then_it_is_public(service, page):
    server = service()
    with server.app.app_context():
        make_site()
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        make_comment(
            news, status=CommentStatus.PENDING, author="First", body="older one"
        )
        target = make_comment(
            news, status=CommentStatus.PENDING, author="Second", body="approve me"
        )
        create_moderator("mod", PASSWORD, site_slugs=["news"])

    listing = f"{server.url}/api/v1/sites/news/comments?thread=/article"
    assert requests.get(listing, timeout=5).json()["count"] == 0

    page.goto(server.url + "/moderation/queue")
    page.get_by_label("Username").fill("mod")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/moderation/queue")
    assert page.locator("article.comment").count() == 2

    page.keyboard.press("j")  # from the first (oldest) to the second comment
    focused = page.evaluate("document.activeElement.dataset.comment")
    assert focused == str(target.id)
    with page.expect_navigation():
        page.keyboard.press("a")
    assert page.get_by_text("1 comment approved.").is_visible()
    assert page.locator("article.comment").count() == 1
    assert "older one" in page.locator("article.comment").inner_text()

    page.keyboard.press("?")
    assert page.locator("dialog#help").is_visible()

    public = requests.get(listing, timeout=5).json()
    assert [c["id"] for c in public["comments"]] == [target.id]
    assert "approve me" in public["comments"][0]["html"]

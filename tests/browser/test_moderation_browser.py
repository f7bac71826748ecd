"""A moderator in a real browser: log in, approve with the keyboard, and the
comment is public."""

import requests
import sqlalchemy as sa
from factories import make_comment, make_site
from playwright.sync_api import expect

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
    comments = page.locator("article.comment")
    expect(comments).to_have_count(2)
    # The queue's script has run: it focuses the first comment.
    expect(comments.first).to_be_focused()

    page.keyboard.press("j")  # from the first (oldest) to the second comment
    focused = page.evaluate("document.activeElement.dataset.comment")
    assert focused == str(target.id)
    page.keyboard.press("a")  # in place (htmx): no navigation
    expect(
        page.get_by_text("Approved the comment by Second on \u201c/article\u201d.")
    ).to_be_visible()
    expect(comments).to_have_count(1)
    expect(comments).to_contain_text("older one")
    expect(comments.first).to_be_focused()

    page.keyboard.press("?")
    expect(page.locator("dialog#help")).to_be_visible()

    public = requests.get(listing, timeout=5).json()
    assert [c["id"] for c in public["comments"]] == [target.id]
    assert "approve me" in public["comments"][0]["html"]

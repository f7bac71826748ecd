"""The review queue made for speed, in a real browser: decisions in place (no
reload), the next comment focused, the selected count, undo, the keyboard help
dialog, and nothing refused by the page's CSP."""

import sqlalchemy as sa
from factories import make_comment, make_site
from playwright.sync_api import expect

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Site
from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"
PENDING = CommentStatus.PENDING


def _log_in(page, url):
    page.goto(url + "/moderation/queue")
    page.get_by_label("Username").fill("mod")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/moderation/queue")


def _status(server, comment_id):
    with server.app.app_context():
        return db.session.get(Comment, comment_id).status


def test_decide_in_place_undo_count_and_help(service, page):
    server = service()
    with server.app.app_context():
        make_site()
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        first = make_comment(news, status=PENDING, author="Ann", body="first one")
        second = make_comment(news, status=PENDING, author="Alice", body="approve me")
        third = make_comment(
            news,
            status=PENDING,
            author="Linker",
            body="https://a.example https://b.example https://c.example",
        )
        create_moderator("mod", PASSWORD, site_slugs=["news"])
    problems = []

    def console(message):
        # The browser asks for /favicon.ico on its own; the app has none.
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))

    _log_in(page, server.url)
    page.evaluate("window.__sameDocument = true")
    cards = page.locator("#decisions article.comment")
    expect(cards).to_have_count(3)
    expect(cards.first).to_be_focused()
    # Link spam is marked, and says why in words.
    expect(page.locator(f"#c{third.id}")).to_have_class("comment held-warning")
    expect(page.locator(f"#c{third.id} .reasons")).to_contain_text(
        "3 links (the site allows 2)"
    )

    # The selected count and the bulk buttons that need a selection.
    count = page.locator("#selected-count")
    bulk = page.locator("button[data-bulk][value=reject]")
    expect(count).to_have_text("0 selected")
    expect(bulk).to_be_disabled()
    page.locator(f"#c{first.id} input[name=selected]").check()
    expect(count).to_have_text("1 selected")
    expect(bulk).to_be_enabled()
    page.locator("#select-all").check()
    expect(count).to_have_text("3 selected")
    page.locator("#select-all").uncheck()
    expect(count).to_have_text("0 selected")
    expect(bulk).to_be_disabled()

    # j then a: Alice's comment is approved in place, without a reload.
    page.locator(f"#c{first.id}").focus()
    page.keyboard.press("j")
    expect(page.locator(f"#c{second.id}")).to_be_focused()
    page.keyboard.press("a")
    message = page.locator(".flashes .flash.info")
    expect(message).to_contain_text(
        "Approved the comment by Alice on \u201c/article\u201d."
    )
    expect(cards).to_have_count(2)
    expect(page.locator(f"#c{second.id}")).to_have_count(1)  # a hidden placeholder
    # The next comment took its place and the focus.
    expect(page.locator(f"#c{third.id}")).to_be_focused()
    expect(page.locator("#queue-tabs .count").first).to_have_text("2")
    assert page.evaluate("window.__sameDocument") is True
    assert _status(server, second.id) == CommentStatus.APPROVED

    # Undo puts it back, in place.
    message.get_by_role("button", name="Undo").click()
    expect(page.locator(".flashes")).to_contain_text(
        "Undone: the comment by Alice on \u201c/article\u201d is pending again."
    )
    expect(cards).to_have_count(3)
    expect(page.locator(f"#c{second.id}")).to_be_focused()
    expect(page.locator("#queue-tabs .count").first).to_have_text("3")
    assert _status(server, second.id) == PENDING
    assert page.evaluate("window.__sameDocument") is True

    # The keyboard flow carries on after the swaps: reject with r.
    page.keyboard.press("r")
    expect(message).to_contain_text("Rejected the comment by Alice")
    expect(cards).to_have_count(2)
    expect(page.locator(f"#c{third.id}")).to_be_focused()

    # The help: a titled dialog with a table of keys; Esc closes it and the
    # focus goes back where it was.
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog.locator("table.keys tbody tr")).to_have_count(9)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#c{third.id}")).to_be_focused()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_focused()

    # Bulk in place: the ticked comments leave together.
    page.locator("#select-all").check()
    expect(count).to_have_text("2 selected")
    page.locator("button[data-bulk][value=spam]").click()
    expect(message).to_contain_text("Marked as spam 2 comments.")
    expect(cards).to_have_count(0)
    expect(count).to_have_text("0 selected")
    # u undoes the last decision, bulk ones too.
    page.keyboard.press("u")
    expect(page.locator(".flashes")).to_contain_text("Undone: the comment by Ann")
    expect(cards).to_have_count(2)
    assert _status(server, first.id) == PENDING
    assert _status(server, third.id) == PENDING
    assert page.evaluate("window.__sameDocument") is True
    assert problems == []


def test_the_first_comment_is_on_the_first_screen_at_320px(service, page):
    server = service()
    with server.app.app_context():
        make_site()
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        make_comment(news, status=PENDING, author="Ann", body="first one")
        create_moderator("mod", PASSWORD, site_slugs=["news"])
    page.set_viewport_size({"width": 320, "height": 640})
    _log_in(page, server.url)
    expect(page.locator("details.filters")).not_to_have_attribute("open", "")
    box = page.locator("#decisions article.comment").first.bounding_box()
    assert box is not None and box["y"] < 640
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

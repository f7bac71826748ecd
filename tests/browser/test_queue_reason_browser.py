"""The queue's Reason field in a real browser (issue 25): it is for one
decision, so it is empty after each one, in place (htmx) and without
JavaScript, and the browser does not put old text back; on a phone it is on
screen beside whichever card's buttons the moderator is at."""

import pytest
import sqlalchemy as sa
from factories import make_comment, make_site
from playwright.sync_api import expect
from timing import generous

from commentsvc.extensions import db
from commentsvc.models import CommentStatus, ModerationEvent, Site
from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"
PENDING = CommentStatus.PENDING
WHY = "Not constructive"


def _queue(server, count: int) -> list[int]:
    with server.app.app_context():
        make_site()
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        ids = [
            make_comment(news, status=PENDING, author=f"A{n}", body=f"text {n}").id
            for n in range(count)
        ]
        create_moderator("mod", PASSWORD, site_slugs=["news"])
    return ids


def _log_in(page, url):
    page.goto(url + "/moderation/queue")
    page.get_by_label("Username").fill("mod")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/moderation/queue")


def _reasons(server) -> dict[int, tuple]:
    with server.app.app_context():
        return {
            e.comment_id: (e.to_status, e.reason)
            for e in db.session.scalars(sa.select(ModerationEvent))
        }


def _decide(page, comment_id: int, action: str, reason: str | None) -> None:
    field = page.locator("#reason")
    if reason is not None:
        field.fill(reason)
    page.locator(f"#c{comment_id} button[data-action={action}]").click()


def test_reason_is_cleared_after_each_decision_in_place(service, page):
    server = service()
    first, second, third, fourth = _queue(server, 4)
    _log_in(page, server.url)
    page.evaluate("window.__sameDocument = true")
    cards = page.locator("#decisions article.comment")
    field = page.locator("#reason")
    expect(field).to_have_attribute("autocomplete", "off")

    _decide(page, first, "reject", WHY)
    expect(cards).to_have_count(3)
    expect(field).to_have_value("")
    _decide(page, second, "reject", WHY)
    expect(cards).to_have_count(2)
    expect(field).to_have_value("")
    _decide(page, third, "approve", None)
    expect(cards).to_have_count(1)

    # A reason typed for the next decision while one is on its way is kept.
    held = []
    page.route("**/moderation/decide", lambda route: held.append(route))
    _decide(page, fourth, "reject", WHY)
    page.wait_for_function(f"document.querySelector('#c{fourth}[data-busy]')")
    while not held:
        page.wait_for_timeout(50)
    field.fill("Off topic")
    held[0].continue_()
    expect(cards).to_have_count(0)
    expect(field).to_have_value("Off topic")

    assert page.evaluate("window.__sameDocument") is True
    assert _reasons(server) == {
        first: (CommentStatus.REJECTED, WHY),
        second: (CommentStatus.REJECTED, WHY),
        third: (CommentStatus.APPROVED, None),
        fourth: (CommentStatus.REJECTED, WHY),
    }


@pytest.fixture
def no_js_page(browser):
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(generous(30_000))
    yield context.new_page()
    context.close()


def test_reason_is_cleared_after_each_decision_without_javascript(service, no_js_page):
    page = no_js_page
    server = service()
    first, second, third = _queue(server, 3)
    _log_in(page, server.url)
    field = page.locator("#reason")

    _decide(page, first, "reject", WHY)
    page.wait_for_load_state()
    expect(page.locator(f"#c{first}")).to_have_count(0)
    expect(field).to_have_value("")
    # Back to the page the reason was typed on: the browser keeps no old text.
    page.go_back()
    expect(field).to_have_value("")
    page.go_forward()
    _decide(page, second, "reject", WHY)
    expect(page.locator(f"#c{second}")).to_have_count(0)
    expect(field).to_have_value("")
    page.reload()
    expect(field).to_have_value("")
    _decide(page, third, "approve", None)
    expect(page.locator(f"#c{third}")).to_have_count(0)

    assert _reasons(server) == {
        first: (CommentStatus.REJECTED, WHY),
        second: (CommentStatus.REJECTED, WHY),
        third: (CommentStatus.APPROVED, None),
    }


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= size["width"]
    )


def _on_top(page, locator) -> bool:
    """Whether a tap at the middle of *locator* reaches it (nothing covers it)."""
    return locator.evaluate(
        """(el) => {
            const r = el.getBoundingClientRect();
            const x = r.x + r.width / 2, y = r.y + r.height / 2;
            const hit = document.elementFromPoint(x, y);
            return hit === el || el.contains(hit);
        }"""
    )


def test_reason_is_on_screen_beside_the_buttons_at_320px(service, page):
    server = service()
    ids = _queue(server, 8)
    page.set_viewport_size({"width": 320, "height": 640})
    _log_in(page, server.url)
    field = page.locator("#reason")

    for comment_id in (ids[0], ids[4], ids[-1]):
        approve = page.locator(f"#c{comment_id} button[data-action=approve]")
        approve.scroll_into_view_if_needed()
        assert _in_view(page, approve) and _on_top(page, approve)
        assert _in_view(page, field), f"Reason is off screen at card {comment_id}"
        assert _on_top(page, field)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    # Typing in it and deciding the card in view records the reason.
    field.fill(WHY)
    page.locator(f"#c{ids[-1]} button[data-action=reject]").click()
    expect(page.locator("#decisions article.comment")).to_have_count(7)
    expect(field).to_have_value("")
    assert _reasons(server) == {ids[-1]: (CommentStatus.REJECTED, WHY)}


def test_the_reason_bar_never_hides_the_focused_control_at_320px(service, page):
    # WCAG 2.4.11: a control reached with the keyboard is not under the bar.
    server = service()
    _queue(server, 4)
    page.set_viewport_size({"width": 320, "height": 640})
    _log_in(page, server.url)
    hidden, checked = [], 0
    for _ in range(80):
        page.keyboard.press("Tab")
        where = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || !el.closest('#decisions article.comment')) return null;
                if (!el.offsetParent) return null;  // a folded <details>' content
                const r = el.getBoundingClientRect();
                const hit = document.elementFromPoint(
                    r.x + r.width / 2, r.y + r.height / 2);
                return {name: el.textContent.trim() || el.name,
                        covered: !(hit === el || el.contains(hit))};
            }"""
        )
        if where is not None:
            checked += 1
            if where["covered"]:
                hidden.append(where["name"])
    assert checked > 10
    assert hidden == []

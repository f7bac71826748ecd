"""Every moderation page in a real browser, light and dark, 1280 and 320 px
wide: nothing scrolls sideways, axe-core finds no serious or critical
accessibility problem (colour contrast included), no id names two elements,
and the page's CSP refuses nothing.

One server and one logged-in browser page serve the whole module: each
page/theme/width is its own test, but none of them sets anything up.
With COMMENTSVC_SCREENSHOTS=<folder> each test also saves a full-page
screenshot as <folder>/<page>-<theme>-<width>.png (scripts/screenshots).
"""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import REDIS_PREFIX, LiveServer, _wipe, base_config, close_redis_clients
from factories import make_comment, make_site
from playwright.sync_api import expect

from commentsvc import accounts, create_app
from commentsvc.accounts import moderation as account_rules
from commentsvc.comments import revisions
from commentsvc.comments.bans import ban_from_comment
from commentsvc.comments.moderation import Target, moderate
from commentsvc.comments.render import render_body
from commentsvc.comments.reports import ReaderReport, file_report
from commentsvc.extensions import db
from commentsvc.models import BanKind, Comment, CommentStatus, Role, utcnow
from commentsvc.moderation.accounts import create_moderator
from commentsvc.webhooks import endpoints

from .conftest import ACTION_TIMEOUT_MS

PASSWORD = "correct horse battery"
# Long enough to widen a page that does not wrap it (the issue measured 1,091 px).
WEBHOOK_URL = (
    "http://127.0.0.1:9/hooks/comments/for-the-example-news-site/production"
    "?token=0123456789abcdef0123456789abcdef0123456789abcdef"
)
PAGES = {
    "login": "/moderation/login",
    "queue": "/moderation/queue",
    "reported": "/moderation/queue?status=reported",
    "approved": "/moderation/queue?status=approved",
    "rejected": "/moderation/queue?status=rejected",
    "spam": "/moderation/queue?status=spam",
    "audit": "/moderation/audit",
    "comment": "/moderation/comments/{held}",
    "account": "/moderation/accounts/{account}",
    "bans": "/moderation/bans",
    "sites": "/moderation/sites",
    "site-settings": "/moderation/sites/news/settings",
    "moderators": "/moderation/moderators",
    "moderator": "/moderation/moderators/{moderator}",
    "password": "/moderation/account/password",
    "mail-settings": "/moderation/account/mail",
    "webhooks": "/moderation/webhooks/",
    "webhook-endpoint": "/moderation/webhooks/{endpoint}",
}
THEMES = ("light", "dark")
WIDTHS = (1280, 320)
SERIOUS = ("serious", "critical")
AXE = Axe()
# The page's width against the window's, and which elements stick out (to
# say what to fix).
WIDER_THAN_THE_WINDOW = """() => {
  const limit = window.innerWidth;
  const out = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > limit + 0.5)
    .slice(-5)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
      + (e.className && typeof e.className === "string"
        ? "." + e.className.trim().split(/\\s+/).join(".") : "")
      + " " + Math.round(e.getBoundingClientRect().right) + "px");
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: limit, out};
}"""


# Buttons and the like that a finger must hit, shorter than 44 px.
SMALL_CONTROLS = """() => [...document.querySelectorAll(
    "button, [type=submit], [role=button], select, summary, input:not([type=hidden])"
    + ":not([type=checkbox]):not([type=radio])")]
  .filter(e => e.checkVisibility() && e.getBoundingClientRect().height < 44)
  .slice(0, 5)
  .map(e => {
    const height = Math.round(e.getBoundingClientRect().height);
    return `${e.outerHTML.slice(0, 80)} ${height}px`;
  })
"""


def _store_a_busy_site() -> dict:
    """A site with comments in every status, a held one with its signals, a
    report, a ban, a webhook endpoint with deliveries and a second moderator;
    return the ids the pages' URLs need."""
    news = make_site(
        allowed_origins=["https://news.example", "https://news.example:8443"]
    )
    make_site("blog", "A Blog", allowed_origins=["https://blog.example"])
    admin = create_moderator(
        "boss", PASSWORD, role=Role.ADMIN, email="boss@example.org"
    )
    moderator = create_moderator(
        "mod", PASSWORD, site_slugs=["news"], email="mod@example.org"
    )
    endpoint, _ = endpoints.add_endpoint("news", WEBHOOK_URL)

    pending = [
        make_comment(news, status=CommentStatus.PENDING, email=f"r{n}@example.org")
        for n in range(3)
    ]
    held = pending[0]
    held.signals = {
        "watch_words": ["casino"],
        "links": 3,
        "spam_filter": {
            "probability": 0.72,
            "verdict": "hold",
            "spam_at": 0.95,
            "pushed": [["casino", 0.81], ["free money", 0.4]],
            "model": "starter",
        },
    }
    db.session.commit()
    decided = {
        status: make_comment(
            news, status=CommentStatus.PENDING, email=f"{status.value}@example.org"
        )
        for status in (
            CommentStatus.APPROVED,
            CommentStatus.REJECTED,
            CommentStatus.SPAM,
            CommentStatus.DELETED,
        )
    }
    for status, comment in decided.items():
        moderate(admin, [Target(comment.id, comment.version)], status, "a reason")
    # An edit of a published comment awaiting a decision (old beside new).
    edited = db.session.get(Comment, decided[CommentStatus.APPROVED].id)
    text = "An edited text, see https://example.org/" + "a-long-path-" * 8
    revisions.propose(edited, text, render_body(text), {"links": 1})
    reported = make_comment(news, status=CommentStatus.APPROVED, email="x@example.org")
    file_report(
        news, reported.id, ReaderReport("abuse", "Rude to other readers."), "192.0.2.9"
    )
    spam = db.session.get(Comment, decided[CommentStatus.SPAM].id)
    ban_from_comment(admin, spam, BanKind.EMAIL, reason="Sends casino spam")
    # A signed-in reader's account, suspended, with a held comment.
    account = accounts.find_or_create(
        news.id,
        "sso",
        "u-7",
        "Sam Subscriber",
        "sam@example.org",
        # Long enough to widen a page that does not wrap it.
        "https://news.example/media/avatars/" + "sam-subscriber-" * 8 + "64.png",
    )
    db.session.commit()
    reader = accounts.Reader(
        account.id, account.name, account.email, None, "sso", False, True
    )
    make_comment(news, status=CommentStatus.PENDING, reader=reader)
    account_rules.suspend(
        admin, account, utcnow() + timedelta(days=7), "Personal attacks"
    )
    return {
        "account": account.id,
        "moderator": moderator.id,
        "endpoint": endpoint.id,
        "admin": admin.id,
        "held": held.id,
    }


@pytest.fixture(scope="module")
def server(database_urls):
    """The app with a busy site, served over HTTP for the whole module."""
    backend = "sqlite" if "sqlite" in database_urls else next(iter(database_urls))
    app = create_app(
        base_config(
            database_urls[backend],
            REDIS_KEY_PREFIX=f"{REDIS_PREFIX}a11y:",
            WEBHOOK_ALLOW_PRIVATE_NETWORKS="127.0.0.1/32",
        )
    )
    try:
        with app.app_context():
            ids = _store_a_busy_site()
        with LiveServer(app) as live:
            live.ids = ids
            yield live
    finally:
        _wipe(app)
        close_redis_clients(app)


class Tab:
    """A browser page of its own context, with the CSP refusals it logged."""

    def __init__(self, browser, **context):
        self.context = browser.new_context(**context)
        self.context.set_default_timeout(ACTION_TIMEOUT_MS)
        self.context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.refused = []
        self.page.on("console", self._console)

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.refused.append(message.text)


@pytest.fixture(scope="module")
def tabs(browser, server):
    """An anonymous tab (for the login page) and one logged in as the admin."""
    anonymous = Tab(browser)
    admin = Tab(browser)
    page = admin.page
    page.goto(server.url + "/moderation/login")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/moderation/queue")
    yield {"anonymous": anonymous, "admin": admin}
    anonymous.context.close()
    admin.context.close()


# Ids given to more than one element (axe-core 4.7+ no longer checks it: its
# duplicate-id rules are deprecated), apart from Flask-WTF's hidden CSRF
# fields, one per form, which no label or ARIA attribute names.
DUPLICATE_IDS = """() => {
  const seen = {};
  for (const e of document.querySelectorAll("[id]")) {
    if (e.matches("input[type=hidden]")) continue;
    seen[e.id] = (seen[e.id] || 0) + 1;
  }
  return Object.entries(seen).filter(([, n]) => n > 1).map(([id]) => id);
}"""


def _describe(violations) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in violations
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("name", PAGES)
def test_page_is_usable_and_accessible(server, tabs, name, theme, width):
    tab = tabs["anonymous" if name == "login" else "admin"]
    page = tab.page
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=theme)
    tab.refused.clear()
    response = page.goto(server.url + PAGES[name].format(**server.ids))
    assert response.status == 200, f"{name}: HTTP {response.status}"
    page.wait_for_load_state("load")

    folder = os.environ.get("COMMENTSVC_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}-{theme}-{width}.png", full_page=True)

    problems = []
    overflow = page.evaluate(WIDER_THAN_THE_WINDOW)
    if overflow["scrollWidth"] > overflow["innerWidth"]:
        problems.append(f"scrolls sideways: {overflow}")
    if width < 400:
        small = page.evaluate(SMALL_CONTROLS)
        if small:
            problems.append(f"controls under 44 px tall: {small}")
    duplicates = page.evaluate(DUPLICATE_IDS)
    if duplicates:
        problems.append(f"ids given to more than one element: {duplicates}")
    results = AXE.run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    if serious:
        problems.append(_describe(serious))
    if tab.refused:
        problems.append(f"CSP refused: {tab.refused}")
    assert not problems, f"{name} ({theme}, {width} px):\n" + "\n".join(problems)


def test_times_show_in_the_moderators_time_zone(browser, server):
    tab = Tab(browser, timezone_id="Asia/Tokyo", locale="en-GB")
    try:
        page = tab.page
        page.goto(server.url + "/moderation/login")
        page.get_by_label("Username").fill("boss")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/moderation/queue")
        page.goto(server.url + PAGES["webhook-endpoint"].format(**server.ids))
        time = page.locator("time[data-local]").first
        expect(time).to_have_attribute("data-localized", "1")
        utc = datetime.fromisoformat(time.get_attribute("datetime"))
        tokyo = utc.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
        shown = time.inner_text()
        assert tokyo.strftime("%H:%M") in shown and "GMT+9" in shown, shown
        # The server's UTC text stays as the title.
        assert time.get_attribute("title") == utc.strftime("%Y-%m-%d %H:%M:%S UTC")
    finally:
        tab.context.close()


STATUSES = ("pending", "approved", "rejected", "spam", "deleted")
# Every category the code flashes (grep `flash(`), and the default one.
FLASHES = ("info", "error", "warning", "message")
SAMPLES = """([statuses, flashes]) => {
  const box = document.createElement("section");
  box.id = "samples";
  for (const s of statuses) {
    const badge = document.createElement("span");
    badge.className = "badge status-" + s;
    badge.textContent = s;
    box.append(badge, " ");
  }
  for (const c of flashes) {
    const p = document.createElement("p");
    p.className = "flash " + c;
    p.innerHTML = "A " + c + " message with <a href='#'>a link</a>.";
    box.append(p);
  }
  for (const kind of ["approve", "danger", "secondary"]) {
    const button = document.createElement("button");
    button.className = kind;
    button.textContent = kind;
    box.append(button);
  }
  document.querySelector("main").prepend(box);
}"""


@pytest.mark.parametrize("theme", THEMES)
def test_badges_flashes_and_buttons_are_readable(server, tabs, theme):
    """Every status badge, flash category and button kind meets WCAG AA
    contrast (axe's color-contrast) in both themes, wherever a page shows it."""
    page = tabs["admin"].page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme=theme)
    page.goto(server.url + PAGES["mail-settings"])
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash.info")).to_contain_text("saved")
    page.evaluate(SAMPLES, [list(STATUSES), list(FLASHES)])
    results = AXE.run(
        page,
        context={"include": [[".flashes"], ["#samples"]]},
        options={"runOnly": ["color-contrast"]},
    )
    violations = results.response["violations"]
    assert not violations, _describe(violations)
    # The colours differ per theme (a dark badge on a dark page would pass
    # contrast yet be Pico's light colours by mistake).
    background = page.locator("#samples .status-spam").evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert background == (
        "rgb(254, 226, 226)" if theme == "light" else "rgb(69, 10, 10)"
    )


def test_the_menu_folds_on_a_narrow_screen(server, tabs):
    page = tabs["admin"].page
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server.url + PAGES["sites"])
    links = page.get_by_role("navigation", name="Moderation").get_by_role("link")
    expect(links.filter(has_text="Moderators")).to_be_visible()

    page.set_viewport_size({"width": 320, "height": 900})
    expect(links.filter(has_text="Moderators")).to_be_hidden()
    page.locator("details.menu > summary").click()
    expect(links.filter(has_text="Moderators")).to_be_visible()
    expect(links.filter(has_text="Sites")).to_have_attribute("aria-current", "page")
    heights = links.evaluate_all("a => a.map(e => e.getBoundingClientRect().height)")
    assert min(heights) >= 44, heights
    assert page.evaluate(WIDER_THAN_THE_WINDOW)["out"] == []
    folder = os.environ.get("COMMENTSVC_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/menu-light-320.png")


def test_a_cards_tick_box_takes_a_finger_sized_tap(server, tabs):
    """The 20 px box of a card is hit 44 px high and wide: a tap just beside it
    (a phone user found the box too small) ticks it."""
    page = tabs["admin"].page
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 320, "height": 900})
    page.goto(server.url + PAGES["queue"])
    box = page.locator(".comment header input[name=selected]").first
    box.scroll_into_view_if_needed()
    rect = box.bounding_box()
    x, y = rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2
    for dx, dy in ((0, -20), (0, 20), (-20, 0)):
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('label.select')"
            " !== null",
            [x + dx, y + dy],
        )
        assert hit, (dx, dy)
    expect(box).not_to_be_checked()
    page.mouse.click(x, y + 20)
    expect(box).to_be_checked()
    page.mouse.click(x, y + 20)
    expect(box).not_to_be_checked()

"""The moderation queue under its Content-Security-Policy, in a real browser:
its script and stylesheet load, its keyboard shortcuts work, nothing is
refused, and what the policy forbids (inline script, handlers, framing) is
refused."""

import time

import sqlalchemy as sa
from factories import make_comment, make_site
from playwright.sync_api import expect
from timing import generous

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Site
from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"

# Runs before any page script in every document (through the DevTools protocol,
# which the page's CSP does not govern) and reports each violation to the test.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


INJECTED = (
    "<script>window.__inline = 1</script>"
    '<script nonce="guessed">window.__nonce = 1</script>'
    '<img src="/no-such-image.png" onerror="window.__onerror = 1">'
    '<a id="js-link" href="javascript:window.__href = 1">link</a>'
    '<button id="handler" onclick="window.__onclick = 1">button</button>'
    "<style>main { display: none }</style>"
)


def test_the_queue_works_under_its_csp_and_the_csp_bites(service, page, article):
    server = service()
    with server.app.app_context():
        make_site()
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        first = make_comment(news, status=CommentStatus.PENDING, body="older one")
        second = make_comment(news, status=CommentStatus.PENDING, body="approve me")
        create_moderator("mod", PASSWORD, site_slugs=["news"])
    refused = []
    page.on(
        "console",
        lambda m: (
            refused.append(m.text) if "Content Security Policy" in m.text else None
        ),
    )
    violations = []
    page.expose_function("reportViolation", lambda report: violations.append(report))
    page.add_init_script(REPORT_VIOLATIONS)

    page.goto(server.url + "/moderation/queue")
    page.get_by_label("Username").fill("mod")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/moderation/queue")
    response = page.request.get(server.url + "/moderation/queue")
    assert "'strict-dynamic'" in response.headers["content-security-policy"]

    # The stylesheet applied (style-src) and the script ran (script-src): the
    # script focuses the first comment on load.
    assert (
        page.locator(".topbar").evaluate("e => getComputedStyle(e).display") == "flex"
    )
    expect(page.locator(f"#c{first.id}")).to_be_focused()

    # Keyboard shortcuts: move, select, help, approve.
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.dataset.comment") == str(second.id)
    page.keyboard.press("x")
    expect(page.locator(f"#c{second.id} input[name=selected]")).to_be_checked()
    page.keyboard.press("?")
    expect(page.locator("dialog#help")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("a")  # in place (htmx): no navigation
    expect(page.get_by_text(f"Approved the comment by {second.author}")).to_be_visible()
    expect(page.locator("article.comment")).to_have_count(1)
    expect(page.locator(f"#c{first.id}")).to_be_focused()
    with server.app.app_context():
        assert db.session.get(Comment, second.id).status == CommentStatus.APPROVED

    # Nothing was refused on any page so far: the login page, the queue, the
    # queue after the decision.
    assert violations == []
    assert refused == []

    # Markup that slipped into the page (say, a stored XSS) runs nothing: the
    # queue is served again with an inline script, handlers, a javascript: link
    # and an inline style injected, under the page's real CSP header.
    def inject(route):
        original = route.fetch()
        html = original.text().replace("</main>", INJECTED + "</main>")
        route.fulfill(response=original, body=html)

    page.route(server.url + "/moderation/queue*", inject)
    page.reload()
    page.click("#js-link")
    page.click("#handler")
    # (No wait_for_function: it uses eval(), refused here.)
    deadline = time.monotonic() + generous(2)
    while len(violations) < 5 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    ran = page.evaluate(
        "[window.__inline, window.__nonce, window.__onerror, "
        "window.__href, window.__onclick]"
    )
    assert ran == [None] * 5
    assert page.locator("main").is_visible()  # the injected style did not apply
    blocked = {v.split()[0] for v in violations}
    assert {"script-src-elem", "script-src-attr", "style-src-elem"} <= blocked
    page.unroute(server.url + "/moderation/queue*")

    # Another site cannot frame the queue (frame-ancestors 'none').
    frame_page = f'<!doctype html><iframe src="{server.url}/moderation/queue"></iframe>'
    article.pages["/frame"] = (frame_page.encode(), {})
    page.goto(article.origin + "/frame")
    page.wait_for_load_state("load")
    [frame] = [f for f in page.frames if f != page.main_frame]
    # Chromium puts its error page in place of a frame the policy refuses.
    assert frame.url.startswith("chrome-error://")
    assert frame.locator("article.comment").count() == 0

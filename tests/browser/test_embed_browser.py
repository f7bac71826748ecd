"""The embed script in Chromium: an article page on one origin, the service on
another, both real HTTP servers. What a reader sees and never loses."""

import json
import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from captcha_standin import LIFETIMES, CaptchaStandIn
from factories import comment_payload, make_comment, make_site
from playwright.sync_api import expect

from commentsvc import sites
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus

GOOGLE_API = "https://www.google.com/recaptcha/api.js"
TURNSTILE_API = "https://challenges.cloudflare.com/turnstile/v0/api.js"
AWAITING = "Your comment is awaiting moderation."

# Stands in for Google's reCAPTCHA v3 script: hands out the test's tokens in
# order and records every execute() call.
GRECAPTCHA_DOUBLE = """
(() => {
  const tokens = __TOKENS__;
  const calls = (window.grecaptchaCalls = []);
  const onload = new URL(document.currentScript.src).searchParams.get("onload");
  window.grecaptcha = {
    ready: (callback) => setTimeout(callback),
    execute(sitekey, options) {
      calls.push([sitekey, options && options.action]);
      return Promise.resolve(tokens.shift() || "no-token-left");
    },
  };
  if (onload) window[onload]();
})();
"""


# Stands in for Cloudflare's Turnstile script: an invisible widget that answers
# execute() through the render callback, like the real one.
TURNSTILE_DOUBLE = """
(() => {
  const tokens = __TOKENS__;
  const calls = (window.turnstileCalls = []);
  const widgets = [];
  const onload = new URL(document.currentScript.src).searchParams.get("onload");
  window.turnstile = {
    render(container, options) {
      calls.push(["render", options.action, options.execution]);
      return widgets.push(options) - 1;
    },
    execute(id) {
      calls.push(["execute"]);
      setTimeout(() => widgets[id].callback(tokens.shift() || "no-token-left"));
    },
    reset(id) {
      calls.push(["reset"]);
    },
  };
  if (onload) window[onload]();
})();
"""


def serve_double(page, url, script, tokens):
    page.route(
        url + "*",
        lambda route: route.fulfill(
            status=200,
            content_type="text/javascript",
            body=script.replace("__TOKENS__", json.dumps(tokens)),
        ),
    )


def serve_grecaptcha_double(page, tokens, seen=None):
    """Answer requests for Google's script with the double (no internet)."""

    def fulfill(route):
        if seen is not None:
            seen.append(route.request.url)
        body = GRECAPTCHA_DOUBLE.replace("__TOKENS__", json.dumps(tokens))
        route.fulfill(status=200, content_type="text/javascript", body=body)

    page.route(GOOGLE_API + "*", fulfill)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Embed:
    """The parts of the embed a reader uses, found as a reader would."""

    def __init__(self, page):
        self.page = page
        self.root = page.locator("#comments")
        self.comment = self.root.get_by_role("textbox", name="Comment")
        self.name = self.root.get_by_role("textbox", name="Name")
        self.post = self.root.get_by_role("button", name="Post Comment")
        self.retry = self.root.get_by_role("button", name="Retry")
        self.robot = self.root.get_by_label("I'm not a robot")
        self.status = self.root.locator("form .status")
        self.mine = self.root.locator("li.mine")

    def write(self, body: str, name: str = "Ann Reader") -> None:
        self.comment.fill(body)
        self.name.fill(name)

    def tick(self) -> None:
        self.robot.check()
        expect(self.robot).to_be_enabled()  # disabled until the token arrives


def stored(app) -> list[Comment]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))


def test_first_render_is_the_threaded_list_in_two_requests_and_no_third_party(
    service, article, page
):
    server = service()
    with server.app.app_context():
        site = make_site(min_submit_seconds=0, allowed_origins=[article.origin])
        first = make_comment(site, author="Ann", body="First!")
        make_comment(site, author="Bob", body="A reply to Ann", parent_id=first.id)
        make_comment(site, author="Cy", body="Second thought")
        make_comment(
            site, author="Dee", body="Still held", status=CommentStatus.PENDING
        )
        make_comment(site, thread="/elsewhere", author="Eve", body="Another page")
        sites.update_site(
            "news",
            captcha_provider="recaptcha_v3",
            captcha_site_key="test-site-key",
            captcha_secret="secret",
        )
    # The thread key is the path of the page's canonical URL, not its own URL.
    url = article.add(
        server,
        "news",
        path="/2026/an-article?utm_source=feed",
        head='<link rel="canonical" href="/article">',
    )
    google = []
    serve_grecaptcha_double(page, [], seen=google)
    requests = []
    page.on("request", lambda request: requests.append(request))

    page.goto(url)
    embed = Embed(page)
    expect(embed.root.get_by_role("heading", name="3 Comments")).to_be_visible()
    page.wait_for_load_state("networkidle")

    to_service = [r for r in requests if origin(r.url) == server.url]
    assert [r.url for r in to_service] == [
        f"{server.url}/embed.js",
        f"{server.url}/api/v1/sites/news/comments?thread=%2Farticle",
    ]
    third_party = [
        r for r in requests if origin(r.url) not in (server.url, article.origin)
    ]
    assert third_party == []
    script = to_service[0].response()
    assert script.header_value("content-encoding") == "gzip"
    assert to_service[0].sizes()["responseBodySize"] <= 8192

    expect(embed.root.locator(".who")).to_have_text(["Ann", "Bob", "Cy"])
    ann = embed.root.locator("li", has_text="First!")
    expect(ann.locator("li")).to_have_count(1)
    expect(ann.locator("li")).to_contain_text("A reply to Ann")
    expect(ann.locator("time").first).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    )
    expect(embed.root).not_to_contain_text("Still held")
    expect(embed.root).not_to_contain_text("Another page")

    # The captcha provider's script comes with the reader's first interaction.
    assert google == []
    with page.expect_request(lambda request: request.url.startswith(GOOGLE_API)):
        embed.comment.click()
    page.wait_for_function("window.grecaptcha !== undefined")
    assert "render=test-site-key" in google[0]
    assert page.evaluate("window.grecaptchaCalls") == []  # tokens only at submit


def test_a_long_thread_shows_its_first_page_and_the_rest_on_request(
    service, article, page
):
    server = service(LISTING_PAGE_SIZE=2, LISTING_REPLIES=1)
    with server.app.app_context():
        site = make_site(min_submit_seconds=0, allowed_origins=[article.origin])
        ann = make_comment(site, author="Ann", body="Top one")
        for n in range(3):
            make_comment(site, author=f"R{n}", body=f"Reply {n}", parent_id=ann.id)
        for name in ("Bob", "Cy", "Dee", "Eve"):
            make_comment(site, author=name, body=f"Top by {name}")
    embed_page = article.add(server, "news")

    page.goto(embed_page)
    embed = Embed(page)
    # The count is the thread's total; the first page shows two top-level
    # comments and the first reply under Ann.
    expect(embed.root.get_by_role("heading", name="8 Comments")).to_be_visible()
    expect(embed.root.locator(".who")).to_have_text(["Ann", "R0", "Bob"])

    embed.root.get_by_role("button", name="Show more replies").click()
    expect(embed.root.locator(".who")).to_have_text(["Ann", "R0", "R1", "R2", "Bob"])
    expect(embed.root.get_by_role("button", name="Show more replies")).to_have_count(0)
    ann_item = embed.root.locator("li", has_text="Top one")
    expect(ann_item.locator("li")).to_have_count(3)

    more = embed.root.get_by_role("button", name="Show more comments")
    more.click()
    expect(embed.root.locator(".who")).to_have_text(
        ["Ann", "R0", "R1", "R2", "Bob", "Cy", "Dee"]
    )
    # Keyboard users carry on from the first comment that arrived.
    expect(embed.root.locator("li", has_text="Top by Cy")).to_be_focused()
    more.click()
    expect(embed.root.locator(".who")).to_have_text(
        ["Ann", "R0", "R1", "R2", "Bob", "Cy", "Dee", "Eve"]
    )
    expect(more).to_have_count(0)

    # Replying still works to a comment that came with a later page.
    embed.root.get_by_role("button", name="Reply to Eve").click()
    expect(
        embed.root.get_by_role("heading", name="Leave a Reply to Eve")
    ).to_be_visible()


def test_validation_messages_show_and_nothing_is_sent(service, article, page):
    server = service()
    with server.app.app_context():
        make_site(
            min_submit_seconds=0, allowed_origins=[article.origin], require_email=True
        )
    strings = {"leave": "Join the discussion"}
    url = article.add(
        server, "news", attributes={"data-commentsvc-strings": json.dumps(strings)}
    )
    posts = []
    page.on(
        "request",
        lambda r: (
            r.method == "POST" and r.url.endswith("/comments") and posts.append(r.url)
        ),
    )

    page.goto(url)
    embed = Embed(page)
    expect(
        embed.root.get_by_role("heading", name="Join the discussion")
    ).to_be_visible()
    embed.post.click()
    expect(embed.root.get_by_text("Please enter your comment!")).to_be_visible()
    expect(embed.root.get_by_text("Please enter your name here")).to_be_visible()
    expect(embed.root.get_by_text("Please enter your email address.")).to_be_visible()
    expect(embed.comment).to_be_focused()
    expect(embed.comment).to_have_attribute("aria-invalid", "true")

    # With the keyboard: type, Tab to the name, Enter submits the form.
    embed.page.keyboard.type("Now there is a comment")
    embed.page.keyboard.press("Tab")
    expect(embed.name).to_be_focused()
    embed.page.keyboard.press("Enter")
    expect(embed.root.get_by_text("Please enter your comment!")).to_be_hidden()
    expect(embed.root.get_by_text("Please enter your name here")).to_be_visible()
    expect(embed.name).to_be_focused()
    assert posts == []
    assert stored(server.app) == []


def test_draft_survives_a_reload_and_the_reply_ends_awaiting_moderation(
    service, article, page
):
    server = service()
    with server.app.app_context():
        # The time trap at one second: the form token must come and go with the
        # post (a reader who types this fast would be held as a bot).
        site = make_site(allowed_origins=[article.origin], min_submit_seconds=1)
        first_id = make_comment(site, author="Ann", body="First!").id
    page.goto(article.add(server, "news"))
    embed = Embed(page)

    embed.root.get_by_role("button", name="Reply to Ann").press("Enter")
    expect(embed.comment).to_be_focused()
    expect(
        embed.root.get_by_role("heading", name="Leave a Reply to Ann")
    ).to_be_visible()
    page.keyboard.type("I agree, Ann.\nA second line.")
    embed.name.fill("Bea")

    page.reload()
    expect(embed.comment).to_have_value("I agree, Ann.\nA second line.")
    expect(embed.name).to_have_value("Bea")
    expect(
        embed.root.get_by_role("heading", name="Leave a Reply to Ann")
    ).to_be_visible()
    expect(embed.status).to_have_text("Your unsent comment has been restored.")

    page.wait_for_timeout(1100)
    embed.post.click()
    ann = embed.root.locator("li", has_text="First!")
    expect(ann.locator("li.mine")).to_contain_text(AWAITING)
    expect(ann.locator("li.mine")).to_contain_text("I agree, Ann.")
    expect(embed.comment).to_have_value("")
    expect(embed.root.get_by_role("heading", name="Leave a Reply")).to_be_visible()
    [comment] = [c for c in stored(server.app) if c.id != first_id]
    assert comment.status == CommentStatus.PENDING, comment.signals
    assert comment.parent_id == first_id
    assert comment.body == "I agree, Ann.\nA second line."
    assert comment.author == "Bea"
    # The embed sent a valid form token: nothing held, nothing spam.
    assert "held" not in comment.signals and "too_fast" not in comment.signals

    # Only this browser sees it; a reload keeps it and brings back no draft.
    page.reload()
    expect(ann.locator("li.mine")).to_contain_text(AWAITING)
    expect(embed.comment).to_have_value("")
    assert (
        page.evaluate("Object.keys(localStorage).filter(k => k.endsWith('draft'))")
        == []
    )


def test_dev_token_expiring_while_the_reader_types_costs_no_retyping(
    service, article, page
):
    server = service(CAPTCHA_DEV_ENABLED=True, CAPTCHA_DEV_TOKEN_LIFETIME=2)
    with server.app.app_context():
        make_site(
            min_submit_seconds=0,
            allowed_origins=[article.origin],
            captcha_provider="dev",
        )
    page.goto(article.add(server, "news"))
    embed = Embed(page)

    embed.write("I ticked the box first")
    embed.tick()
    embed.comment.fill("I ticked the box first, then kept on typing for a while.")
    expect(embed.status).to_contain_text("The captcha expired")
    expect(embed.robot).not_to_be_checked()
    embed.post.click()
    expect(embed.status).to_have_text("Please confirm that you are not a robot.")
    assert stored(server.app) == []

    embed.tick()
    embed.post.click()
    expect(embed.mine).to_contain_text(AWAITING)
    [comment] = stored(server.app)
    assert comment.body == "I ticked the box first, then kept on typing for a while."
    assert comment.signals["captcha"]["outcome"] == "ok"


def _resent_with_a_fresh_token(service, article, page, provider, install, text):
    """The reader's first token expired before they posted: the provider refuses
    it, the embed fetches a fresh one and sends the post again, and each token
    reaches the provider once. Returns the server."""
    with CaptchaStandIn() as standin:
        server = service(**standin.config())
        with server.app.app_context():
            make_site(
                min_submit_seconds=0,
                allowed_origins=[article.origin],
                captcha_provider=provider,
                captcha_site_key="test-site-key",
                captcha_secret=standin.secret,
            )
        stale = standin.issue(provider, hostname="127.0.0.1")
        standin.advance(LIFETIMES[provider] + 1)  # the reader took their time
        fresh = standin.issue(provider, hostname="127.0.0.1")
        install(page, [stale, fresh])
        page.goto(article.add(server, "news"))
        embed = Embed(page)

        embed.write(text)
        embed.post.click()
        expect(embed.mine).to_contain_text(AWAITING)
        expect(embed.mine).to_contain_text(text)
        assert standin.received == [stale, fresh]
    [comment] = stored(server.app)
    assert comment.signals["captcha"]["outcome"] == "ok"
    return server


def test_recaptcha_token_refused_as_expired_is_replaced_and_the_post_resent(
    service, article, page
):
    _resent_with_a_fresh_token(
        service, article, page, "recaptcha_v3", serve_grecaptcha_double, "Worth it."
    )
    assert page.evaluate("window.grecaptchaCalls") == [
        ["test-site-key", "comment"],
        ["test-site-key", "comment"],
    ]


def test_turnstile_token_refused_as_expired_is_replaced_and_the_post_resent(
    service, article, page
):
    def install(page, tokens):
        serve_double(page, TURNSTILE_API, TURNSTILE_DOUBLE, tokens)

    _resent_with_a_fresh_token(
        service, article, page, "turnstile", install, "Cloudflare took its time."
    )
    # Rendered for execution on demand; a used widget is reset before the next.
    assert page.evaluate("window.turnstileCalls") == [
        ["render", "comment", "execute"],
        ["execute"],
        ["reset"],
        ["execute"],
    ]


def test_dev_token_spent_elsewhere_asks_for_a_tick_then_sends_by_itself(
    service, article, page
):
    server = service(CAPTCHA_DEV_ENABLED=True)
    with server.app.app_context():
        make_site(
            min_submit_seconds=0,
            allowed_origins=[article.origin],
            captcha_provider="dev",
        )
    page.goto(article.add(server, "news"))
    embed = Embed(page)
    embed.write("My token was used before I sent this.")
    embed.tick()
    # The server sees the token a second time, as after a clock skew or a replay.
    token = page.evaluate("commentsvcDevCaptcha.getResponse()")
    spent = server.app.test_client().post(
        "/api/v1/sites/news/comments",
        json=comment_payload(
            body="Someone else", captcha_token=token, url=f"{article.origin}/other"
        ),
    )
    assert spent.status_code == 202

    embed.post.click()
    expect(embed.status).to_have_text("Please tick the box again to send your comment.")
    expect(embed.robot).not_to_be_checked()
    expect(embed.comment).to_have_value("My token was used before I sent this.")
    embed.tick()  # no second click on Post Comment
    expect(embed.mine).to_contain_text(AWAITING)
    bodies = [c.body for c in stored(server.app)]
    assert bodies == ["Someone else", "My token was used before I sent this."]


def test_rate_limited_post_keeps_the_text_and_says_when_to_retry(
    service, article, page
):
    server = service()
    with server.app.app_context():
        make_site("limited", min_submit_seconds=0, allowed_origins=[article.origin])
        sites.update_site("limited", post_rate_limit="1/minute")
    page.goto(article.add(server, "limited"))
    embed = Embed(page)
    embed.write("The first comment goes through.")
    embed.post.click()
    expect(embed.mine).to_contain_text(AWAITING)

    embed.comment.fill("The second one is one too many.")
    embed.post.click()
    expect(embed.status).to_have_text(
        re.compile(r"^You are posting too quickly\. Please try again in \d+ seconds\.$")
    )
    expect(embed.comment).to_have_value("The second one is one too many.")
    expect(embed.post).to_be_enabled()
    assert len(stored(server.app)) == 1

    page.reload()
    expect(embed.comment).to_have_value("The second one is one too many.")


def test_stopped_service_keeps_the_text_and_retry_works_once_it_is_back(
    service, article, page
):
    server = service()
    with server.app.app_context():
        make_site(min_submit_seconds=0, allowed_origins=[article.origin])
    page.goto(article.add(server, "news"))
    embed = Embed(page)
    embed.write("Written while the service restarts.")

    server.stop()
    embed.post.click()
    expect(embed.status).to_contain_text("could not be reached")
    expect(embed.retry).to_be_visible()
    expect(embed.comment).to_have_value("Written while the service restarts.")
    expect(embed.post).to_be_enabled()

    server.start()
    embed.retry.click()
    expect(embed.mine).to_contain_text(AWAITING)
    expect(embed.retry).to_be_hidden()
    [comment] = stored(server.app)
    assert comment.body == "Written while the service restarts."


def test_strict_content_security_policy_needs_no_inline_styles_or_scripts(
    service, article, page
):
    server = service(CAPTCHA_DEV_ENABLED=True)
    with server.app.app_context():
        site = make_site(min_submit_seconds=0, allowed_origins=[article.origin])
        make_comment(
            site, author="Ann", body="Approved, with a link: https://a.example"
        )
        sites.update_site("news", captcha_provider="dev")
    # What docs/embed.md tells a site to allow: the service, and nothing inline;
    # Trusted Types enforced, with the embed's own policy allowed.
    policy = (
        f"default-src 'none'; script-src {server.url}; connect-src {server.url}; "
        "style-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; "
        "require-trusted-types-for 'script'; trusted-types commentsvc"
    )
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " cspViolations.push(e.violatedDirective + ' ' + e.blockedURI), true);"
    )
    page.goto(article.add(server, "news", headers={"Content-Security-Policy": policy}))
    embed = Embed(page)

    link = embed.root.get_by_role("link", name="https://a.example")
    expect(link).to_have_attribute("rel", re.compile("nofollow"))
    expect(embed.post).to_have_css("background-color", "rgb(34, 113, 177)")
    expect(embed.root.locator(".hp")).to_have_css("position", "absolute")
    embed.write("Posted under a strict policy.")
    embed.tick()
    expect(embed.root.locator(".box")).to_have_css("border-top-style", "solid")
    embed.post.click()
    expect(embed.mine).to_contain_text(AWAITING)

    assert page.evaluate("cspViolations") == []
    assert [m for m in console if "Content Security Policy" in m] == []
    # The policy is in force: a style element of the page's own is refused.
    color = page.evaluate(
        """() => {
          const style = document.createElement("style");
          style.textContent = "h1 { color: rgb(1, 2, 3) }";
          document.head.append(style);
          return getComputedStyle(document.querySelector("h1")).color;
        }"""
    )
    assert color != "rgb(1, 2, 3)"

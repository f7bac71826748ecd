"""The demo of ./scripts/demo: the article page on its own origin (demo/serve.py,
with its strict Content-Security-Policy) embedding the service's comments."""

import importlib.util
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

SERVE_PY = Path(__file__).resolve().parents[2] / "demo" / "serve.py"


@pytest.fixture
def demo_module():
    spec = importlib.util.spec_from_file_location("demo_serve", SERVE_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_article_takes_a_comment_through_the_dev_captcha(
    service, page, demo_module
):
    server = service(CAPTCHA_DEV_ENABLED=True)
    article = demo_module.make_server("127.0.0.1", 0, server.url, "demo")
    article_origin = f"http://127.0.0.1:{article.server_port}"
    thread = threading.Thread(target=article.serve_forever, args=(0.05,))
    thread.start()
    try:
        setup = server.app.test_cli_runner().invoke(
            args=["demo-setup", "--origin", article_origin]
        )
        assert setup.exit_code == 0, setup.output
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))

        response = page.goto(article_origin + "/")
        assert (
            "script-src 'self' " + server.url
            in response.headers["content-security-policy"]
        )
        comments = page.locator("#comments")
        expect(comments.get_by_role("heading", name="No comments yet")).to_be_visible()
        # The page styles the embed from outside through ::part().
        title = comments.get_by_role("heading", name="Leave a Reply")
        expect(title).to_have_css("text-transform", "uppercase")

        comments.get_by_role("textbox", name="Comment").fill("Count me in at 3 am.")
        comments.get_by_role("textbox", name="Name").fill("Night Owl")
        robot = comments.get_by_label("I'm not a robot")
        robot.check()
        expect(robot).to_be_enabled()
        comments.get_by_role("button", name="Post Comment").click()
        expect(comments.locator("li.mine")).to_contain_text(
            "Your comment is awaiting moderation."
        )
        assert errors == []
    finally:
        article.shutdown()
        article.server_close()
        thread.join(5)


def test_the_demo_s_subscriber_page_posts_as_the_site_s_own_reader(
    service, page, demo_module
):
    """./scripts/demo's second page: the article as a subscriber signed in to
    the news site sees it (a token demo/serve.py signs on every load)."""
    secret = "demo-secret-of-the-browser-test-32b"
    server = service(CAPTCHA_DEV_ENABLED=True)
    article = demo_module.make_server("127.0.0.1", 0, server.url, "demo", secret)
    article_origin = f"http://127.0.0.1:{article.server_port}"
    thread = threading.Thread(target=article.serve_forever, args=(0.05,))
    thread.start()
    try:
        setup = server.app.test_cli_runner().invoke(
            args=["demo-setup", "--origin", article_origin, "--sso-secret", secret]
        )
        assert setup.exit_code == 0, setup.output

        page.goto(article_origin + demo_module.ARTICLE_PATH)
        page.get_by_role(
            "link", name="read this page as a signed-in subscriber"
        ).click()
        comments = page.locator("#comments")
        expect(comments.get_by_text("Signed in as Dana Subscriber")).to_be_visible()
        expect(comments.get_by_role("textbox", name="Name")).to_be_hidden()
        expect(comments.get_by_label("I'm not a robot")).to_have_count(0)
        comments.get_by_role("textbox", name="Comment").fill("Subscribers at 3 am!")
        comments.get_by_role("button", name="Post Comment").click()
        expect(comments.locator("li.mine")).to_contain_text("Dana Subscriber")
    finally:
        article.shutdown()
        article.server_close()
        thread.join(5)

"""A fresh browser gets in while strangers guess at the account, in the default
production configuration: the login asks for our own proof of work (ALTCHA,
vendored), which the browser solves under the page's CSP."""

import time

from crawl import csrf_from
from playwright.sync_api import expect

from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_a_fresh_browser_solves_the_challenge_and_is_in(service, page):
    # A cheap puzzle: what is tested is that the browser solves it and is let
    # in, not how long it takes (under a loaded suite 1,000 iterations a try
    # once took over 30 s).
    server = service(LOGIN_CHALLENGE_COST=10)
    app = server.app
    assert app.config["LOGIN_CAPTCHA_PROVIDER"] == "altcha"
    with app.app_context():
        create_moderator("owner", PASSWORD)
    stranger = app.test_client()
    statuses = []
    for n in range(8):
        form = csrf_from(stranger.get("/moderation/login").get_data(as_text=True))
        statuses.append(
            stranger.post(
                "/moderation/login",
                data={
                    "username": "owner",
                    "password": f"guess {n}!",
                    "csrf_token": form,
                },
                environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
            ).status_code
        )
    assert 429 not in statuses

    # The page's own script arrives late, as on a loaded machine: the puzzle
    # must still be solved (the widget's auto="onload" once started it before
    # the worker was registered, and it never was).
    def late(route):
        time.sleep(0.5)
        route.continue_()

    page.route("**/static/login-challenge.js", late)
    violations = []
    page.expose_function("reportViolation", lambda report: violations.append(report))
    page.add_init_script(REPORT_VIOLATIONS)
    page.goto(server.url + "/moderation/login")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The right password alone tells nothing: the page asks for the puzzle...
    expect(page.get_by_text("Answer the captcha to log in.")).to_be_visible()
    # ...which the browser solves by itself (login-challenge.js starts it).
    page.wait_for_function(
        "() => (document.querySelector('input[name=altcha]') || {}).value",
        timeout=30_000,
    )
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(server.url + "/moderation/queue")
    assert violations == []

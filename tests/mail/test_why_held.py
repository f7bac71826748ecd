"""On a site with a captcha, "why it was held" names the reason that holds the
comment first, in the queue's card, the moderators' mail and the one-click
page; a verified captcha holds nothing: it is noted apart ("Also: …"), never
joined to the reasons as "reason.; note" (issue 25)."""

import html as html_lib
import re

from crawl import log_in
from factories import ORIGIN, comment_payload

from commentsvc import sites

from .conftest import PASSWORD, html_part, link, path_of, run_worker, text_part

RULE = "Every comment on this site waits for a moderator."
CAPTCHA = "Captcha verified (dev captcha)"
ALSO = f"Also: {CAPTCHA}."


def assert_apart(text: str):
    """The reason on its own line, the note on another, no ".;"."""
    lines = [line.strip() for line in text.splitlines()]
    assert f"Why it was held: {RULE}" in lines, text
    assert ALSO in lines, text
    assert ".;" not in text


def _post_with_captcha(app) -> int:
    """A comment sent as the embed sends it: a form token, a solved captcha."""
    client = app.test_client()
    origin = {"Origin": ORIGIN}
    form = client.post("/api/v1/sites/news/form-token", headers=origin)
    captcha = client.post("/api/v1/sites/news/captcha/dev-token", headers=origin)
    response = client.post(
        "/api/v1/sites/news/comments",
        json=comment_payload(
            form_token=form.json["token"], captcha_token=captcha.json["token"]
        ),
        headers=origin,
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.json["id"]


def test_the_sites_rule_comes_first_in_the_card_the_mail_and_the_page(mail_app, smtp):
    mail_app.config["CAPTCHA_DEV_ENABLED"] = True
    with mail_app.app_context():
        sites.update_site("news", captcha_provider="dev", min_submit_seconds=0)
    comment_id = _post_with_captcha(mail_app)
    run_worker(mail_app)
    [message] = smtp.messages

    # The mail, both parts.
    assert_apart(text_part(message))
    assert_apart(re.sub(r"<[^>]+>", "", html_lib.unescape(html_part(message))))
    # The one-click page a link opens.
    page = mail_app.test_client().get(path_of(link(message, "Approve")))
    assert_apart(re.sub(r"<[^>]+>", "", html_lib.unescape(page.get_data(as_text=True))))
    # The queue's card.
    queue = log_in(mail_app, "mod", PASSWORD).get("/moderation/queue")
    card = queue.get_data(as_text=True).split(f'id="c{comment_id}"')[1]
    reasons = re.search(r'aria-label="Why it was held">(.*?)</ul>', card, re.S)
    items = re.findall(r"<li>(.*?)</li>", reasons.group(1))
    assert items == [RULE]
    noted = re.search(r'aria-label="Also noted">(.*?)</ul>', card, re.S)
    assert re.findall(r"<li>(.*?)</li>", noted.group(1)) == [CAPTCHA]

"""Moderators who want it hear by mail when readers' reports of a comment reach
the site's threshold; the preference is theirs, per site."""

import sqlalchemy as sa
from crawl import csrf_from, log_in
from factories import ORIGIN, get_site, make_comment

from commentsvc.comments.reports import dismiss
from commentsvc.extensions import db
from commentsvc.models import ModeratorMailSetting
from commentsvc.moderation.accounts import get_moderator

from .conftest import (
    PASSWORD,
    PUBLIC_URL,
    add_moderator,
    html_part,
    run_worker,
    text_part,
)

API = "/api/v1/sites/news/comments"


def report_mails(smtp):
    # Not the mail about a new comment (make_comment posts it as Pending).
    return [m for m in smtp.messages if "Readers reported" in m["Subject"]]


def _reported(app, threshold=2, reports=2, first_address=1):
    """A comment published by trust, reported by *reports* readers, each from
    its own address (a network's free reports stop one short of the
    threshold)."""
    with app.app_context():
        site = get_site()
        site.report_threshold = threshold
        db.session.commit()
        comment_id = make_comment(site, author="Ann", body="A rude remark").id
    client = app.test_client()
    for n in range(reports):
        response = client.post(
            f"{API}/{comment_id}/reports",
            json={"reason": "illegal", "explanation": f"Libel, says reader {n}."},
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n + first_address}"},
        )
        assert response.status_code == 202
    return comment_id


def test_reports_at_the_threshold_mail_the_moderators_who_want_it(mail_app, smtp):
    with mail_app.app_context():
        add_moderator("quiet", sites=[get_site()], email="quiet@news.example")
    client = log_in(mail_app, "quiet", PASSWORD)
    html = client.get("/moderation/account/mail").get_data(as_text=True)
    assert 'name="reports-news"' in html and "checked" in html
    response = client.post(
        "/moderation/account/mail",
        # The box unticked: a form sends nothing for it.
        data={"csrf_token": csrf_from(html), "mode-news": "each", "reports-shown": "1"},
    )
    assert response.status_code == 302
    with mail_app.app_context():
        quiet = get_moderator("quiet")
        setting = db.session.get(ModeratorMailSetting, (quiet.id, get_site().id))
        assert setting.reports is False

    _reported(mail_app, threshold=3, reports=2)
    run_worker(mail_app)
    assert report_mails(smtp) == []  # under the threshold: no mail yet

    _reported(mail_app, threshold=2, reports=2, first_address=11)
    run_worker(mail_app)
    [mail] = report_mails(smtp)
    assert mail["To"] == "mod@news.example"
    assert mail["Subject"] == "[Example News] Readers reported a comment by Ann"
    text = text_part(mail)
    assert "reported a comment on Example News 2 time(s)" in text
    assert "A rude remark" in text
    assert "Illegal content (2)" in text and "Libel, says reader 1." in text
    # Published by trust, so the reports took it off the page.
    assert "took it off the page" in text
    assert f"{PUBLIC_URL}/moderation/queue?status=reported" in text
    assert "Libel, says reader 0." in html_part(mail)


def test_reports_settled_before_the_mail_goes_send_nothing(mail_app, smtp):
    comment_id = _reported(mail_app)
    with mail_app.app_context():
        assert dismiss(get_moderator("mod"), comment_id) == 2
    run_worker(mail_app)
    assert report_mails(smtp) == []


def test_the_mail_setting_defaults_to_yes_and_is_audited(mail_app):
    client = log_in(mail_app, "mod", PASSWORD)
    html = client.get("/moderation/account/mail").get_data(as_text=True)
    client.post(
        "/moderation/account/mail",
        data={"csrf_token": csrf_from(html), "mode-news": "each", "reports-shown": "1"},
    )
    html = client.get("/moderation/account/mail").get_data(as_text=True)
    assert 'name="reports-news" value="1">' in html  # not checked any more
    client.post(
        "/moderation/account/mail",
        data={
            "csrf_token": csrf_from(html),
            "mode-news": "each",
            "reports-shown": "1",
            "reports-news": "1",
        },
    )
    with mail_app.app_context():
        assert db.session.scalar(sa.select(ModeratorMailSetting.reports)) is True
    audit = client.get("/moderation/audit").get_data(as_text=True)
    assert "reports" in audit

"""A moderator's mail settings (account page and CLI), digests, and the mail
configuration checked at start."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from crawl import csrf_from, log_in
from factories import comment_payload

from commentsvc import create_app
from commentsvc.config import ConfigError
from commentsvc.extensions import db
from commentsvc.models import ModeratorMailSetting
from commentsvc.moderation.accounts import get_moderator

from .conftest import PASSWORD, PUBLIC_URL, link, path_of, run_worker, text_part


def post(client, body):
    response = client.post(
        "/api/v1/sites/news/comments", json=comment_payload(body=body)
    )
    assert response.status_code == 202


def test_a_digest_gathers_what_came_in_since_the_last_one(mail_app, smtp):
    runner = mail_app.test_cli_runner()
    result = runner.invoke(
        args=["mail", "settings", "mod", "--site", "news", "--mode", "hourly"]
    )
    assert result.exit_code == 0, result.output
    assert "news\thourly" in result.output
    client = mail_app.test_client()
    post(client, "First of the hour.")
    post(client, "Second of the hour.")
    run_worker(mail_app)
    assert smtp.messages == []  # no mail per comment, and the hour is not over

    with mail_app.app_context():
        setting = db.session.scalar(sa.select(ModeratorMailSetting))
        setting.last_digest_at -= timedelta(hours=1, seconds=1)
        db.session.commit()
    assert "1 sent" in run_worker(mail_app)
    [digest] = smtp.messages
    assert digest["Subject"] == "[Example News] 2 comment(s) await a decision"
    text = text_part(digest)
    assert "First of the hour." in text and "Second of the hour." in text
    approve = link(digest, "Approve")  # the first comment's links come first
    assert mail_app.test_client().get(path_of(approve)).status_code == 200
    run_worker(mail_app)
    assert len(smtp.messages) == 1  # the next digest is an hour away


def test_the_account_page_sets_mail_per_site(mail_app, smtp):
    client = log_in(mail_app, "mod", PASSWORD)
    page = client.get("/moderation/account/mail")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "mod@news.example" in html
    assert 'name="mode-news"' in html and "mode-blog" not in html
    response = client.post(
        "/moderation/account/mail",
        data={"csrf_token": csrf_from(html), "mode-news": "none"},
    )
    assert response.status_code == 302
    refused = client.post(
        "/moderation/account/mail",
        data={"csrf_token": csrf_from(html), "mode-news": "weekly"},
    )
    assert refused.status_code == 422
    post(mail_app.test_client(), "Nobody is told.")
    run_worker(mail_app)
    assert smtp.messages == []


def test_the_cli_refuses_what_it_cannot_set(mail_app):
    runner = mail_app.test_cli_runner()
    result = runner.invoke(
        args=["mail", "settings", "mod", "--site", "blog", "--mode", "daily"]
    )
    assert result.exit_code == 1
    assert "error: mod does not moderate it." in result.output
    result = runner.invoke(args=["mail", "settings", "nobody"])
    assert result.exit_code == 1
    assert "error: there is no moderator 'nobody'" in result.output


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MAIL_URL": "http://mail.example"}, "MAIL_URL: must be smtp://"),
        ({"MAIL_URL": "smtp://"}, "names no host"),
        ({"MAIL_URL": "smtp://h?starttls=maybe"}, "starttls must be 1 or 0"),
        ({"MAIL_URL": "smtp://h:99999"}, "not a mail URL"),
        ({"MAIL_FROM": None}, "MAIL_FROM must be"),
        ({"PUBLIC_URL": "comments.example"}, "PUBLIC_URL must be"),
    ],
)
def test_bad_mail_settings_stop_the_start(settings, message):
    config = {
        "TESTING": True,
        "DATABASE_URL": "sqlite://",
        "MAIL_URL": "smtp://user:secret@mail.example:587?starttls=1",
        "MAIL_FROM": "comments@example.com",
        "PUBLIC_URL": "https://comments.example",
        **settings,
    }
    with pytest.raises(ConfigError, match=message):
        create_app(config)


def test_the_environment_is_checked_too(monkeypatch):
    monkeypatch.setenv("COMMENTSVC_MAIL_URL", "smtps://mail.example?starttls=1")
    with pytest.raises(ConfigError, match="COMMENTSVC_MAIL_URL: smtps is TLS"):
        create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})


def test_the_demo_prints_mail_with_working_links(make_app):
    app = make_app(
        MAIL_URL="console:", MAIL_FROM="comments@demo.example", PUBLIC_URL=PUBLIC_URL
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-setup"]).exit_code == 0
    with app.app_context():
        assert get_moderator("demo").email == "demo@example.org"
    response = app.test_client().post(
        "/api/v1/sites/demo/comments",
        json=comment_payload(url="http://127.0.0.1:8001/article", body="Hello demo"),
    )
    assert response.status_code == 202
    output = runner.invoke(args=["mail", "worker", "--once"]).output
    assert "To: demo@example.org" in output and "Hello demo" in output
    approve = next(
        line.split(": ", 1)[1]
        for line in output.splitlines()
        if line.startswith("Approve: ")
    )
    assert app.test_client().get(path_of(approve)).status_code == 200


def test_the_cli_answers_odd_names_and_durations_in_one_line(mail_app):
    # A NUL byte in a name stopped `mail settings` with a traceback on
    # PostgreSQL, and so did a duration past what a date can hold.
    runner = mail_app.test_cli_runner()
    tries = [
        (["mail", "settings", "mo\x00d"], "error: there is no moderator"),
        (
            ["mail", "settings", "mod", "--site", "ne\x00ws", "--mode", "none"],
            "error: there is no site",
        ),
        (["mail", "purge-unconfirmed", "--older-than", "99999999999d"], "Error:"),
    ]
    for args, said in tries:
        result = runner.invoke(args=args)
        assert result.exit_code in (1, 2), (args, result.exception)
        assert said in result.output and "Traceback" not in result.output


def test_a_refused_choice_on_the_page_saves_none_of_the_others(mail_app):
    # With one site's choice refused, the sites before it in the list were
    # saved all the same, under "Pick one of the offered choices".
    client = log_in(mail_app, "boss", PASSWORD)
    html = client.get("/moderation/account/mail").get_data(as_text=True)

    refused = client.post(
        "/moderation/account/mail",
        data={"csrf_token": csrf_from(html), "mode-blog": "none", "mode-news": "x"},
    )

    assert refused.status_code == 422
    with mail_app.app_context():
        assert db.session.scalars(sa.select(ModeratorMailSetting)).all() == []

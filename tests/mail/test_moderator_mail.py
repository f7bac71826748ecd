"""Moderators hear about a pending comment by mail and decide from it: the
mail's parts and headers, the prefetch rule (a GET never decides), and the
signed links' rules (reused, expired, tampered, a moderator off the site)."""

import time
from datetime import timedelta

import sqlalchemy as sa
from crawl import csrf_from
from factories import comment_payload
from itsdangerous import TimestampSigner

from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.mail.compose import decision_links
from commentsvc.models import (
    Comment,
    CommentStatus,
    DeliveryStatus,
    MailMessage,
    ModerationEvent,
    Site,
    as_utc,
    utcnow,
)
from commentsvc.moderation.accounts import (
    deactivate,
    get_moderator,
    reactivate,
    set_sites,
)

from .conftest import (
    PUBLIC_URL,
    SENDER,
    click_button,
    html_part,
    link,
    path_of,
    run_worker,
    text_part,
)


def post(client, **fields):
    response = client.post(
        "/api/v1/sites/news/comments", json=comment_payload(**fields)
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def status_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).status


def test_a_pending_comment_mails_the_moderator_who_decides_from_the_mail(
    mail_app, smtp
):
    client = mail_app.test_client()
    comment_id = post(
        client,
        body="Look at https://a.example and https://b.example and https://c.example",
    )
    assert smtp.messages == []  # never sent inside the request
    assert "1 sent" in run_worker(mail_app)

    [message] = smtp.messages  # the admin has no address: no mail
    assert message["To"] == "mod@news.example"
    assert message["From"] == SENDER
    assert message["Subject"] == (
        "[Example News] New comment by Ann Reader awaits a decision"
    )
    assert (
        message["Message-ID"].startswith("<")
        and "@news.example>" in message["Message-ID"]
    )
    assert message["List-Unsubscribe"] is None  # a moderator's own settings
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_part(message), html_part(message)
    for part in (text, html):
        assert "Look at" in part
        assert "https://news.example/article" in part
        assert "3 links (the site allows 2)" in part  # why it was held, in words
        assert "Example News" in part
    assert "<table" in html and 'style="' in html

    approve = link(message, "Approve")
    assert link(message, "Spam") != approve != link(message, "Reject")
    # Link scanners and prefetch open every link: a GET shows, never decides.
    for url in (approve, link(message, "Spam"), link(message, "Reject")):
        page = client.get(path_of(url))
        assert page.status_code == 200
        assert b"Look at" in page.data
    assert status_of(mail_app, comment_id) == CommentStatus.PENDING

    done = click_button(mail_app.test_client(), approve)  # no login needed
    assert done.status_code == 200
    assert b"approved" in done.data
    assert status_of(mail_app, comment_id) == CommentStatus.APPROVED
    with mail_app.app_context():
        event = db.session.scalar(
            sa.select(ModerationEvent).where(ModerationEvent.comment_id == comment_id)
        )
        assert event.moderator.username == "mod"
        assert event.reason == "by mail"
        assert event.to_status == CommentStatus.APPROVED

    # Single use: the decision moved the comment's version.
    for url in (approve, link(message, "Spam")):
        again = mail_app.test_client().get(path_of(url))
        assert again.status_code == 409
        assert b"already decided by mod: it is approved" in again.data
    assert status_of(mail_app, comment_id) == CommentStatus.APPROVED


def test_a_comment_decided_before_the_worker_runs_sends_no_mail(mail_app, smtp):
    client = mail_app.test_client()
    comment_id = post(client)
    with mail_app.app_context():
        comment = db.session.get(Comment, comment_id)
        moderate(
            get_moderator("boss"),
            [Target(comment.id, comment.version)],
            CommentStatus.REJECTED,
        )
    assert "1 no longer needed" in run_worker(mail_app)
    assert smtp.messages == []


def test_links_that_are_tampered_expired_or_whose_moderator_left(
    mail_app, smtp, monkeypatch
):
    client = mail_app.test_client()
    first = post(client)
    run_worker(mail_app)
    [message] = smtp.messages
    approve = link(message, "Approve")

    tampered = path_of(approve)[:-3] + ("aaa" if not approve.endswith("aaa") else "bbb")
    response = client.get(tampered)
    assert response.status_code == 400
    assert b"not valid" in response.data

    # A link made eight days ago has expired (MAIL_LINK_DAYS = 7).
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 8 * 86400
    )
    with mail_app.test_request_context():
        comment = db.session.get(Comment, first)
        old = decision_links(comment, get_moderator("mod"))["approve"]
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    response = client.get(path_of(old))
    assert response.status_code == 410
    assert b"expired" in response.data

    # Taken off the site: the link is refused, with a page that says so.
    with mail_app.app_context():
        set_sites(get_moderator("mod"), ["blog"])
    response = client.get(path_of(approve))
    assert response.status_code == 403
    assert b"may no longer decide" in response.data
    # A POST with a valid CSRF token (from a page opened before) is refused too.
    token = csrf_from(client.get("/moderation/login").get_data(as_text=True))
    response = client.post(path_of(approve), data={"csrf_token": token})
    assert response.status_code == 403
    with mail_app.app_context():
        set_sites(get_moderator("mod"), ["news"])
        deactivate(get_moderator("mod"))
    assert client.get(path_of(approve)).status_code == 403
    assert status_of(mail_app, first) == CommentStatus.PENDING

    # The POST needs the page's CSRF token.
    with mail_app.app_context():
        reactivate(get_moderator("mod"))
    assert client.post(path_of(approve)).status_code == 400
    assert status_of(mail_app, first) == CommentStatus.PENDING
    assert PUBLIC_URL in approve


def make_due(app):
    """Bring the retry time of waiting mail forward (instead of sleeping)."""
    with app.app_context():
        db.session.execute(sa.update(MailMessage).values(next_attempt_at=utcnow()))
        db.session.commit()


def test_the_worker_retries_while_the_smtp_server_is_down(mail_app, smtp):
    smtp.stop()
    comment_id = post(mail_app.test_client())
    before = utcnow()
    assert "1 to retry" in run_worker(mail_app)
    with mail_app.app_context():
        row = db.session.scalar(sa.select(MailMessage))
        assert row.status == DeliveryStatus.PENDING
        assert row.attempts == 1
        assert "Connection" in row.last_error or "refused" in row.last_error
        # MAIL_RETRY_DELAYS: 0.3 s, jittered by 20 %.
        assert as_utc(row.next_attempt_at) >= before + timedelta(seconds=0.24)

    smtp.start()
    make_due(mail_app)
    assert "1 sent" in run_worker(mail_app)
    assert "0 sent" in run_worker(mail_app)
    [message] = smtp.messages  # delivered once
    assert message["To"] == "mod@news.example"
    with mail_app.app_context():
        row = db.session.scalar(sa.select(MailMessage))
        assert row.status == DeliveryStatus.SUCCEEDED
        assert row.attempts == 2
        assert row.comment_id == comment_id


def test_after_the_last_retry_a_mail_is_failed(mail_app, smtp):
    smtp.stop()
    post(mail_app.test_client())
    for _ in range(3):  # two retries (MAIL_RETRY_DELAYS=0.3,0.3)
        run_worker(mail_app)
        make_due(mail_app)
    with mail_app.app_context():
        row = db.session.scalar(sa.select(MailMessage))
        assert row.status == DeliveryStatus.FAILED
        assert row.attempts == 3


def test_the_webhooks_worker_sends_mail_too(mail_app, smtp):
    post(mail_app.test_client())
    result = mail_app.test_cli_runner().invoke(args=["webhooks", "worker", "--once"])
    assert result.exit_code == 0, result.output
    [message] = smtp.messages
    assert message["To"] == "mod@news.example"


def test_line_breaks_in_a_sites_name_never_reach_a_header(mail_app, smtp):
    """A site named (by an older release, or straight in the database) with a
    line break and a header after it: the mail goes to the moderator alone."""
    with mail_app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        site.name = "Example News\r\nBcc: victim@evil.example"
        db.session.commit()
    post(mail_app.test_client())
    assert "1 sent" in run_worker(mail_app)
    [message] = smtp.messages
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert [envelope.rcpt_tos for envelope in smtp.envelopes] == [["mod@news.example"]]

"""Readers: "Notify me of replies" with a double opt-in, a mail when a reply
is approved, and unsubscribing (one page, everything, RFC 8058 one-click),
honoured at once, mail already queued included."""

import re
from datetime import timedelta

import sqlalchemy as sa
from factories import comment_payload

from commentsvc.extensions import db
from commentsvc.models import (
    Comment,
    CommentStatus,
    DeliveryStatus,
    MailMessage,
    MailRecipient,
    MailSubscription,
    utcnow,
)

from .conftest import (
    PUBLIC_URL,
    click_button,
    link,
    path_of,
    run_worker,
    text_part,
)

ANN = "ann@example.org"
OTHER_URL = "https://news.example/other"


def resume_link(html: str) -> str:
    """The "start mail again" link of a page (a path on the service)."""
    match = re.search(r'href="(/mail/resume/[^"]+)"', html)
    assert match, html
    return PUBLIC_URL + match.group(1)


def post(client, **fields):
    response = client.post(
        "/api/v1/sites/news/comments", json=comment_payload(**fields)
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def approve_from_mail(app, smtp, comment_id):
    """The moderator approves *comment_id* with the Approve link of its mail."""
    run_worker(app)
    with app.app_context():
        body = db.session.get(Comment, comment_id).body
    [message] = [m for m in smtp.to("mod@news.example") if body in text_part(m)]
    response = click_button(app.test_client(), link(message, "Approve"))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_subscribed_reader_hears_of_an_approved_reply_once_confirmed(mail_app, smtp):
    client = mail_app.test_client()
    assert client.get("/api/v1/sites/news/comments?thread=/article").get_json()[
        "config"
    ]["notify_replies"]
    parent = post(client, body="My first point.", notify=True)
    run_worker(mail_app)
    [confirm] = smtp.to(ANN)  # double opt-in: nothing else before it
    assert confirm["Subject"] == (
        "[Example News] Confirm that you want mail about replies"
    )
    assert confirm["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    approve_from_mail(mail_app, smtp, parent)

    # A reply approved before the address is confirmed sends Ann nothing.
    early = post(
        client,
        author="Bob",
        email="bob@example.org",
        body="An early reply.",
        parent_id=parent,
    )
    approve_from_mail(mail_app, smtp, early)
    run_worker(mail_app)
    assert len(smtp.to(ANN)) == 1

    confirm_url = link(confirm, "Confirm")
    assert client.get(path_of(confirm_url)).status_code == 200  # prefetch
    with mail_app.app_context():
        assert db.session.scalar(sa.select(MailRecipient.confirmed_at)) is None
    assert click_button(client, confirm_url).status_code == 200
    with mail_app.app_context():
        assert db.session.scalar(sa.select(MailRecipient.confirmed_at)) is not None

    reply = post(
        client,
        author="Bob",
        email="bob@example.org",
        body="I disagree, politely.",
        parent_id=parent,
    )
    approve_from_mail(mail_app, smtp, reply)
    assert "1 sent" in run_worker(mail_app)
    [_, mail] = smtp.to(ANN)
    assert mail["Subject"] == "[Example News] Bob replied to your comment"
    assert mail.get_content_type() == "multipart/alternative"
    text = text_part(mail)
    assert "I disagree, politely." in text and "My first point." in text
    assert "https://news.example/article" in text
    # The link opens the page at the reply (the embed's permalinks).
    assert f"https://news.example/article#comment-{reply}" in text
    html_part = mail.get_body(("html",)).get_content()
    assert f'href="https://news.example/article#comment-{reply}"' in html_part
    assert "bob@example.org" not in mail.as_string()  # addresses never shown
    # RFC 8058: the header's https URL and the one-click POST marker.
    header = mail["List-Unsubscribe"]
    assert header.startswith("<https://comments.example/mail/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Stop mail about this page (the body's link) while a reply waits in the
    # outbox: it is not sent.
    queued = post(
        client,
        author="Cy",
        email="cy@example.org",
        body="Another reply.",
        parent_id=parent,
    )
    approve_from_mail(mail_app, smtp, queued)
    with mail_app.app_context():
        waiting = db.session.scalar(
            sa.select(MailMessage).where(
                MailMessage.comment_id == queued, MailMessage.kind == "reply"
            )
        )
        assert waiting.status == DeliveryStatus.PENDING
    page_link = link(mail, "Stop mail about this page")
    assert client.get(path_of(page_link)).status_code == 200  # shows only
    done = click_button(client, page_link)
    assert b"no more mail about this page" in done.data
    run_worker(mail_app)
    assert len(smtp.to(ANN)) == 2
    with mail_app.app_context():
        assert db.session.get(MailMessage, waiting.id).status == DeliveryStatus.FAILED

    # The one-click POST, as a mail client sends it: no session, no CSRF token.
    one_click = mail_app.test_client().post(
        path_of(header.strip("<>")),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    assert b"no more mail from Example News" in one_click.data
    with mail_app.app_context():
        assert db.session.scalar(sa.select(MailRecipient.unsubscribed_at))


def test_unsubscribing_from_everything_stops_queued_mail_too(mail_app, smtp):
    client = mail_app.test_client()
    result = mail_app.test_cli_runner().invoke(
        args=["sites", "update", "news", "--mail-own-approval"]
    )
    assert result.exit_code == 0, result.output
    parent = post(client, body="Subscribed here.", notify=True)
    run_worker(mail_app)
    [confirm] = smtp.to(ANN)
    click_button(client, link(confirm, "Confirm"))
    approve_from_mail(mail_app, smtp, parent)
    assert "1 sent" in run_worker(mail_app)
    [_, own] = smtp.to(ANN)  # the site mails readers their own approval
    assert own["Subject"] == "[Example News] Your comment is published"

    reply = post(client, author="Bob", email=None, body="A reply.", parent_id=parent)
    approve_from_mail(mail_app, smtp, reply)  # queues Ann's reply mail
    everything = link(own, "Stop all mail from Example News")
    assert click_button(client, everything).status_code == 200
    assert "0 sent" in run_worker(mail_app)
    assert len(smtp.to(ANN)) == 2


def test_after_stopping_all_mail_only_a_mailed_link_starts_it_again(mail_app, smtp):
    # A stranger who re-ticks the box with the address sends it nothing, each
    # time; the owner starts mail again from the page of a link mailed to them.
    client = mail_app.test_client()
    parent = post(client, body="Subscribed here.", notify=True)
    run_worker(mail_app)
    [confirm] = smtp.to(ANN)
    click_button(client, link(confirm, "Confirm"))
    everything = link(confirm, "Stop all mail from Example News")
    stopped = click_button(client, everything)
    assert stopped.status_code == 200

    stranger = mail_app.test_client()
    post(stranger, body="Mail her again.", notify=True)
    post(stranger, body="And again.", notify=True, thread="/other", url=OTHER_URL)
    run_worker(mail_app)
    assert len(smtp.to(ANN)) == 1  # no confirmation, no notice
    with mail_app.app_context():  # nor a page more for later
        assert db.session.scalar(sa.select(sa.func.count(MailSubscription.id))) == 1
    approve_from_mail(mail_app, smtp, parent)
    reply = post(client, author="Bob", email=None, body="A reply.", parent_id=parent)
    approve_from_mail(mail_app, smtp, reply)
    run_worker(mail_app)
    assert len(smtp.to(ANN)) == 1

    # The owner: the "stop all mail" link again (from any mail) offers the way
    # back; its page shows, its button starts mail again.
    page = client.get(path_of(everything)).get_data(as_text=True)
    resume_path = resume_link(page)
    assert click_button(client, resume_path).status_code == 200
    again = post(client, author="Cy", email=None, body="Later.", parent_id=parent)
    approve_from_mail(mail_app, smtp, again)
    run_worker(mail_app)
    assert smtp.to(ANN)[-1]["Subject"] == "[Example News] Cy replied to your comment"


def test_without_confirmation_an_address_is_purged(mail_app, smtp, runner):
    client = mail_app.test_client()
    post(client, notify=True)
    post(client, notify=True, body="A second comment, same day.")
    run_worker(mail_app)
    assert len(smtp.to(ANN)) == 1  # one confirmation a day, not one a post
    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["mail", "purge-unconfirmed"])
    assert "purged 0 unconfirmed addresses" in result.output
    with mail_app.app_context():
        recipient = db.session.scalar(sa.select(MailRecipient))
        recipient.created_at = utcnow() - timedelta(days=8)
        db.session.commit()
    result = runner.invoke(args=["mail", "purge-unconfirmed"])
    assert "purged 1 unconfirmed address" in result.output
    with mail_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MailRecipient.id))) == 0
        assert db.session.scalar(sa.select(Comment.status).limit(1)) == (
            CommentStatus.PENDING
        )


def test_a_confirmation_opened_after_stopping_all_mail_changes_nothing(mail_app, smtp):
    client = mail_app.test_client()
    post(client, body="Subscribed here.", notify=True)
    run_worker(mail_app)
    [confirm] = smtp.to(ANN)
    click_button(client, link(confirm, "Confirm"))
    with mail_app.app_context():
        recipient = db.session.scalar(sa.select(MailRecipient))
        recipient.unsubscribed_at = utcnow()  # "Stop all mail" since
        db.session.commit()

    again = click_button(mail_app.test_client(), link(confirm, "Confirm"))
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    assert "nothing changed" in page
    assert "you will hear about replies" not in page
    with mail_app.app_context():
        assert db.session.scalar(sa.select(MailRecipient)).unsubscribed_at

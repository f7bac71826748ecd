"""A reader's links act only on the address they were mailed to, only as their
own kind, and an unsubscribe link never expires; every link error answers a
page that says what happened (never a 500)."""

import time

import sqlalchemy as sa
from factories import comment_payload
from itsdangerous import TimestampSigner

from commentsvc.extensions import db
from commentsvc.models import MailRecipient, utcnow

from .conftest import click_button, link, path_of, run_worker

ANN = "ann@example.org"
BEA = "bea@example.org"
STOP_ALL = "Stop all mail from Example News"


def post(client, **fields):
    response = client.post(
        "/api/v1/sites/news/comments", json=comment_payload(**fields)
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def recipient(app, address):
    with app.app_context():
        return db.session.scalar(
            sa.select(MailRecipient).where(MailRecipient.email == address)
        )


def subscribe_confirmed(app, smtp, address):
    """*address* ticks the box and confirms; returns its confirmation mail."""
    client = app.test_client()
    post(client, author=address, email=address, notify=True)
    run_worker(app)
    confirm = smtp.to(address)[-1]
    assert click_button(client, link(confirm, "Confirm")).status_code == 200
    return confirm


def test_an_erased_readers_old_link_does_not_act_on_the_next_reader(mail_app, smtp):
    ann_mail = subscribe_confirmed(mail_app, smtp, ANN)
    old_link = link(ann_mail, STOP_ALL)
    result = mail_app.test_cli_runner().invoke(
        args=["comments", "erase-author", ANN, "--yes"]
    )
    assert result.exit_code == 0, result.output
    subscribe_confirmed(mail_app, smtp, BEA)
    with mail_app.app_context():
        if db.engine.dialect.name == "sqlite":
            # SQLite gives a deleted row's id to the next row.
            assert recipient(mail_app, BEA).id == 1

    client = mail_app.test_client()
    page = client.get(path_of(old_link))
    assert page.status_code == 400
    assert b"not valid" in page.data
    assert client.post(path_of(old_link)).status_code == 400
    assert recipient(mail_app, BEA).unsubscribed_at is None


def test_a_link_acts_only_as_its_own_kind(mail_app, smtp):
    confirm = subscribe_confirmed(mail_app, smtp, ANN)
    confirm_token = path_of(link(confirm, "Confirm")).rsplit("/", 1)[1]
    stop_token = path_of(link(confirm, STOP_ALL)).rsplit("/", 1)[1]
    client = mail_app.test_client()

    # A confirmation link used as an unsubscribe link (one-click POST too).
    assert client.get(f"/mail/unsubscribe/{confirm_token}").status_code == 400
    assert client.post(f"/mail/unsubscribe/{confirm_token}").status_code == 400
    assert recipient(mail_app, ANN).unsubscribed_at is None
    # An unsubscribe link used as a confirmation or a "start again" link.
    assert client.get(f"/mail/confirm/{stop_token}").status_code == 400
    assert client.get(f"/mail/resume/{stop_token}").status_code == 400

    # The "start again" link (shown after stopping) is no unsubscribe link.
    stopped = click_button(client, link(confirm, STOP_ALL))
    assert stopped.status_code == 200
    resume_path = stopped.get_data(as_text=True).split('href="/mail/resume/')[1]
    resume_token = resume_path.split('"', 1)[0]
    with mail_app.app_context():
        row = db.session.get(MailRecipient, recipient(mail_app, ANN).id)
        row.unsubscribed_at = None
        db.session.commit()
    assert client.post(f"/mail/unsubscribe/{resume_token}").status_code == 400
    assert recipient(mail_app, ANN).unsubscribed_at is None


def test_an_unsubscribe_link_never_expires_and_old_links_answer_a_page(
    mail_app, smtp, monkeypatch
):
    # The mail was sent 30 days ago (links last MAIL_LINK_DAYS = 7 days).
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 30 * 86400
    )
    client = mail_app.test_client()
    post(client, notify=True)
    run_worker(mail_app)
    [confirm] = smtp.to(ANN)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)

    expired = client.get(path_of(link(confirm, "Confirm")))
    assert expired.status_code == 410
    assert b"expired" in expired.data
    stop_all = link(confirm, STOP_ALL)
    assert client.get(path_of(stop_all)).status_code == 200
    done = mail_app.test_client().post(
        path_of(stop_all),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200
    assert b"no more mail from Example News" in done.data
    assert recipient(mail_app, ANN).unsubscribed_at is not None

    # The "start again" link it offers does expire: a page says so.
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 30 * 86400
    )
    stopped = client.post(path_of(stop_all))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    resume = stopped.get_data(as_text=True).split('href="')[1].split('"')[0]
    assert resume.startswith("/mail/resume/")
    page = client.get(resume)
    assert page.status_code == 410
    assert b"expired" in page.data
    assert client.get(resume[:-3]).status_code == 400


def test_a_link_signed_before_links_named_their_address(mail_app, smtp):
    # Mail sent before this version: its unsubscribe link names the row only.
    # It still works, unless the row is younger than the link (another reader).
    from commentsvc.mail import links

    subscribe_confirmed(mail_app, smtp, ANN)
    row = recipient(mail_app, ANN)
    with mail_app.test_request_context():
        old = links.sign(links.UNSUBSCRIBE, {"r": row.id})
    with mail_app.app_context():
        later = db.session.get(MailRecipient, row.id)
        later.created_at = utcnow().replace(year=utcnow().year + 1)
        db.session.commit()
    assert mail_app.test_client().post(f"/mail/unsubscribe/{old}").status_code == 400
    assert recipient(mail_app, ANN).unsubscribed_at is None
    with mail_app.app_context():
        db.session.get(MailRecipient, row.id).created_at = row.created_at
        db.session.commit()
    assert mail_app.test_client().post(f"/mail/unsubscribe/{old}").status_code == 200
    assert recipient(mail_app, ANN).unsubscribed_at is not None

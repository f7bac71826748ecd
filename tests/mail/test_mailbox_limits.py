"""What a stranger's form post can send to someone's mailbox: confirmations
counted per mailbox (``+tag`` dropped, any case) across sites and processes,
and a notice with a one-click undo when a confirmed address is subscribed to
another page (past the day's notices, the page is not subscribed at all)."""

from datetime import timedelta

import sqlalchemy as sa
from factories import comment_payload, make_site

from commentsvc.extensions import db
from commentsvc.models import (
    MailboxCount,
    MailRecipient,
    MailSubscription,
    Thread,
    utcnow,
)

from .conftest import PUBLIC_URL, SENDER, click_button, link, run_worker

ANN = "ann@example.org"
OTHER = {"thread": "/other", "url": "https://news.example/other"}
UNDO = "If that was not you, or you do not want this mail, one click undoes it"


def post(client, site="news", **fields):
    response = client.post(
        f"/api/v1/sites/{site}/comments", json=comment_payload(**fields)
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def mailbox_of(address: str) -> str:
    local, _, domain = address.lower().rpartition("@")
    return f"{local.partition('+')[0]}@{domain}"


def test_confirmations_are_counted_per_mailbox_across_sites_and_processes(
    mail_app, make_app, smtp
):
    other_process = make_app(
        MAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        MAIL_FROM=SENDER,
        PUBLIC_URL=PUBLIC_URL,
    )
    blog = {"url": "https://blog.example/post", "thread": "/post"}
    for n in range(10):
        app = (mail_app, other_process)[n % 2]
        site_fields = {"site": "blog", **blog} if n % 3 == 0 else {}
        address = f"Victim+{n}@Example.org" if n % 4 == 0 else f"victim+{n}@example.org"
        body = f"Comment number {n} on the page."
        post(app.test_client(), email=address, body=body, notify=True, **site_fields)
    run_worker(mail_app)
    with smtp.lock:
        to_victim = [
            m for m in smtp.messages if mailbox_of(str(m["To"])) == "victim@example.org"
        ]
    assert len(to_victim) == 3  # MAIL_CONFIRMATIONS_PER_DAY
    # Another mailbox is counted apart.
    post(mail_app.test_client(), email="someone@example.org", notify=True, body="Hi")
    run_worker(mail_app)
    assert len(smtp.to("someone@example.org")) == 1


def confirmed_ann(app, smtp):
    client = app.test_client()
    post(client, body="On the article.", notify=True)
    run_worker(app)
    [confirm] = smtp.to(ANN)
    assert click_button(client, link(confirm, "Confirm")).status_code == 200


def subscribed(app, thread_key: str) -> bool:
    with app.app_context():
        return bool(
            db.session.scalar(
                sa.select(MailSubscription.active)
                .join(Thread, Thread.id == MailSubscription.thread_id)
                .join(MailRecipient, MailRecipient.id == MailSubscription.recipient_id)
                .where(Thread.key == thread_key, MailRecipient.email == ANN)
            )
        )


def test_a_confirmed_address_hears_of_each_new_page_with_an_undo(mail_app, smtp):
    confirmed_ann(mail_app, smtp)
    stranger = mail_app.test_client()
    post(stranger, body="Same page again.", notify=True)  # not a new page
    post(stranger, body="Subscribing Ann elsewhere.", notify=True, **OTHER)
    run_worker(mail_app)
    [_, notice] = smtp.to(ANN)
    assert notice["Subject"] == (
        "[Example News] You will now get replies on https://news.example/other"
    )
    assert subscribed(mail_app, "/other")

    undo = link(
        notice, "If that was not you, or you do not want this mail, one click undoes it"
    )
    done = click_button(mail_app.test_client(), undo)
    assert done.status_code == 200
    assert b"no more mail about this page" in done.data
    assert not subscribed(mail_app, "/other")
    assert subscribed(mail_app, "/article")

    # Ticked again there: a new notice, with its own undo.
    post(stranger, body="And again.", notify=True, **OTHER)
    run_worker(mail_app)
    assert smtp.to(ANN)[-1]["Subject"] == notice["Subject"]
    assert len(smtp.to(ANN)) == 3


def test_past_the_days_notices_a_page_is_not_subscribed(make_app, smtp):
    app = make_app(
        MAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        MAIL_FROM=SENDER,
        PUBLIC_URL=PUBLIC_URL,
        MAIL_NOTICES_PER_DAY=2,
    )
    with app.app_context():
        make_site()
    confirmed_ann(app, smtp)
    for n in range(3):
        post(
            app.test_client(),
            notify=True,
            body=f"Comment {n} on its own page.",
            thread=f"/p{n}",
            url=f"https://news.example/p{n}",
        )
    run_worker(app)
    notices = [m for m in smtp.to(ANN) if "replies on" in str(m["Subject"])]
    assert len(notices) == 2
    assert subscribed(app, "/p0") and subscribed(app, "/p1")
    assert not subscribed(app, "/p2")  # never subscribed without a word


def test_past_days_counts_are_purged(mail_app):
    with mail_app.app_context():
        today = utcnow().date()
        for days_ago in (0, 1, 2, 30):
            db.session.add(
                MailboxCount(
                    mailbox=f"m{days_ago}",
                    kind="confirm",
                    day=today - timedelta(days=days_ago),
                    count=1,
                )
            )
        db.session.commit()
    result = mail_app.test_cli_runner().invoke(args=["mail", "purge-unconfirmed"])
    assert result.exit_code == 0, result.output
    with mail_app.app_context():
        kept = set(db.session.scalars(sa.select(MailboxCount.mailbox)))
    assert kept == {"m0", "m1"}  # today's cap still holds

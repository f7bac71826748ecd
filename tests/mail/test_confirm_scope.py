"""A confirmation covers the pages its mail named, not the whole site: the
mail names the address's pages when it is written, and confirming activates
only those without a word. A page a stranger subscribed the address to after
the link was issued gets the notice with a one-click undo, as a page added to
a confirmed address does (past the day's notices, it is not subscribed)."""

import threading
import time

import pytest
import sqlalchemy as sa
from conftest import BACKENDS
from factories import comment_payload, make_site

from commentsvc.extensions import db
from commentsvc.mail import links, outbox
from commentsvc.mail.readers import link_token
from commentsvc.models import MailRecipient, MailSubscription, Site, Thread

from .conftest import (
    PUBLIC_URL,
    SENDER,
    click_button,
    html_part,
    link,
    run_worker,
    text_part,
)

ANN = "ann@example.org"
UNDO = "If that was not you, or you do not want this mail, one click undoes it"


def post(client, **fields):
    response = client.post(
        "/api/v1/sites/news/comments", json=comment_payload(**fields)
    )
    assert response.status_code == 202, response.get_data(as_text=True)


def page(n: int) -> dict:
    return {"thread": f"/p{n}", "url": f"https://news.example/p{n}"}


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


def notices(smtp) -> list:
    return [m for m in smtp.to(ANN) if "will now get replies" in str(m["Subject"])]


def test_the_confirmation_names_its_page_and_covers_only_it(mail_app, smtp):
    owner = mail_app.test_client()
    post(owner, body="On the article.", notify=True)
    run_worker(mail_app)
    [confirm] = smtp.to(ANN)
    for part in (text_part(confirm), html_part(confirm)):
        assert "https://news.example/article" in part, part
        assert " more," not in part

    # A stranger, after the mail went out: no second confirmation (one a day).
    stranger = mail_app.test_client()
    post(stranger, body="Subscribing Ann elsewhere.", notify=True, **page(1))
    run_worker(mail_app)
    assert len(smtp.to(ANN)) == 1

    assert click_button(owner, link(confirm, "Confirm")).status_code == 200
    run_worker(mail_app)
    [notice] = notices(smtp)  # for the page the mail never named, only
    assert notice["Subject"] == (
        "[Example News] You will now get replies on https://news.example/p1"
    )
    assert len(smtp.to(ANN)) == 2
    assert subscribed(mail_app, "/article") and subscribed(mail_app, "/p1")

    assert click_button(stranger, link(notice, UNDO)).status_code == 200
    assert not subscribed(mail_app, "/p1")
    assert subscribed(mail_app, "/article")


TOPICS = [
    "The bridge repairs are late again",
    "Taxes went up twice this year",
    "Our school needs a new roof",
    "Why do the trains stop at nine?",
    "Lovely photos of the park",
    "The river flooded my cellar",
    "Bring back the old ferry",
    "Who planted those elms?",
]


def test_a_long_list_names_five_and_counts_the_rest(make_app, smtp):
    app = make_app(
        MAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        MAIL_FROM=SENDER,
        PUBLIC_URL=PUBLIC_URL,
        MAIL_NOTICES_PER_DAY=1,
    )
    with app.app_context():
        make_site()
    stranger = app.test_client()
    # Eight different comments (the same words on three pages would be a
    # near-duplicate campaign: docs/spam.md).
    for n, text in enumerate(TOPICS):
        post(stranger, body=text, notify=True, **page(n))
    run_worker(app)
    [confirm] = smtp.to(ANN)
    text = text_part(confirm)
    named = [n for n in range(8) if f"https://news.example/p{n}" in text]
    assert named == [3, 4, 5, 6, 7]  # the newest: most likely the owner's own
    assert "and 3 more" in text
    assert "and 3 more" in html_part(confirm)

    assert click_button(app.test_client(), link(confirm, "Confirm")).status_code == 200
    run_worker(app)
    # The five named pages hold; of the three never named, one notice (the
    # day's cap) and its page holds, the other two are not subscribed.
    assert all(subscribed(app, f"/p{n}") for n in named)
    [notice] = notices(smtp)
    unnamed = [n for n in range(8) if n not in named]
    held = [n for n in unnamed if subscribed(app, f"/p{n}")]
    assert len(held) == 1
    assert str(notice["Subject"]).endswith(f"/p{held[0]}")


def test_a_link_of_before_pages_were_named_confirms_with_a_notice(mail_app, smtp):
    post(mail_app.test_client(), body="On the article.", notify=True)
    run_worker(mail_app)
    with mail_app.app_context():
        recipient = db.session.scalar(sa.select(MailRecipient))
        with mail_app.test_request_context():
            old = link_token(links.CONFIRM, recipient)  # names no page
    response = click_button(mail_app.test_client(), f"{PUBLIC_URL}/mail/confirm/{old}")
    assert response.status_code == 200
    run_worker(mail_app)
    [notice] = notices(smtp)
    assert str(notice["Subject"]).endswith("/article")
    assert subscribed(mail_app, "/article")


def test_confirming_twice_sends_no_second_notice(mail_app, smtp):
    owner = mail_app.test_client()
    post(owner, body="On the article.", notify=True)
    run_worker(mail_app)
    [confirm] = smtp.to(ANN)
    post(mail_app.test_client(), body="Elsewhere.", notify=True, **page(1))
    click_button(owner, link(confirm, "Confirm"))
    click_button(owner, link(confirm, "Confirm"))
    run_worker(mail_app)
    assert len(notices(smtp)) == 1


# SQLite has one writer at a time: the two cannot interleave there.
@pytest.mark.postgresql
@pytest.mark.skipif(
    "postgresql" not in BACKENDS,
    reason="PostgreSQL is not among COMMENTSVC_TEST_BACKENDS",
)
@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_page_subscribed_while_the_owner_confirms_is_announced(
    mail_app, smtp, backend
):
    owner = mail_app.test_client()
    post(owner, body="On the article.", notify=True)
    post(mail_app.test_client(), email=None, body="Another page.", **page(1))
    run_worker(mail_app)
    [confirm] = smtp.to(ANN)
    with mail_app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == "news"))
        thread_id = db.session.scalar(sa.select(Thread.id).where(Thread.key == "/p1"))
        # A stranger's post, inside its transaction, has subscribed Ann to the
        # page when she confirms; it commits a moment after.
        outbox.subscribe(site_id, ANN, thread_id)
        done = []
        clicking = threading.Thread(
            target=lambda: done.append(click_button(owner, link(confirm, "Confirm")))
        )
        clicking.start()
        time.sleep(0.5)
        db.session.commit()
    clicking.join(10)
    assert done and done[0].status_code == 200
    run_worker(mail_app)
    [notice] = notices(smtp)
    assert str(notice["Subject"]).endswith("/p1")

"""No text from a commenter shapes a mail header: an RFC 2047 encoded word in a
name is refused at the API, and one stored before that rule still writes no
header line into the moderators' mail or a reader's reply mail, on any Python
(read as raw bytes from a real SMTP server)."""

import email
import email.policy
import re

import sqlalchemy as sa
from factories import comment_payload

from commentsvc.extensions import db
from commentsvc.models import Comment, Site

from .conftest import click_button, link, run_worker

EVIL = "=?utf-8?q?Ann=0D=0AReply-To:_it@evil.test=0D=0A=0D=0AYour_session_expired?="
ANN = "ann@example.org"
MODERATOR = "mod@news.example"
MODERATOR_HEADERS = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "Content-Type",
    "MIME-Version",
}
READER_HEADERS = MODERATOR_HEADERS | {
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
}


def post(client, **fields):
    response = client.post(
        "/api/v1/sites/news/comments", json=comment_payload(**fields)
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def raw_mails(smtp, address: str) -> list[bytes]:
    """The bytes of each message the SMTP server took for *address*."""
    with smtp.lock:
        return [e.content for e in smtp.envelopes if address in e.rcpt_tos]


def header_names(raw: bytes) -> list[str]:
    """The name of each header line of *raw* (continuation lines unfolded)."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    names = []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t"):
            continue  # a folded line goes on the header above
        name, colon, _ = line.partition(b":")
        assert colon, f"not a header line: {line!r}"
        names.append(name.decode("ascii"))
    return names


def assert_safe(raw: bytes, expected: set[str], author_shown: str):
    names = header_names(raw)
    assert sorted(names) == sorted(expected), names  # no Reply-To, nothing twice
    assert b"\nYour session expired" not in raw
    assert b"\x1b" not in raw.split(b"\r\n\r\n")[0]  # no control character
    message = email.message_from_bytes(raw, policy=email.policy.default)
    # As a mail program decodes it: one line, no encoded word turned into CR LF.
    subject = str(message["Subject"])
    assert "\r" not in subject and "\n" not in subject, subject
    assert author_shown in subject
    assert "Reply-To" not in message


def test_an_encoded_word_in_a_name_is_refused_with_a_message(mail_app):
    client = mail_app.test_client()
    for name in (EVIL, "Ann =?utf-8?b?QW5u?=", "x=?y"):
        response = client.post(
            "/api/v1/sites/news/comments", json=comment_payload(author=name)
        )
        assert response.status_code == 422, response.get_data(as_text=True)
        message = response.get_json()["error"]["fields"]["author"]
        assert "=?" in str(message)
    # An equals sign or a question mark alone is a name like any other.
    post(client, author="Ann = Bob?")


def test_a_stored_encoded_word_name_writes_no_header(mail_app, smtp):
    client = mail_app.test_client()
    # Ann asks to hear about replies, confirms, and her comment is approved.
    parent = post(client, body="My first point.", notify=True)
    run_worker(mail_app)
    [confirm] = smtp.to(ANN)
    assert click_button(client, link(confirm, "Confirm")).status_code == 200
    [mail] = [m for m in smtp.to(MODERATOR) if "My first point." in str(m)]
    assert click_button(client, link(mail, "Approve")).status_code == 200

    # A reply whose name was stored before the API refused encoded words (and
    # with a line break of its own: imported before import checked names).
    reply = post(
        client,
        author="Mallory",
        email="mallory@example.org",
        body="A reply with a trap in its name.",
        parent_id=parent,
    )
    with mail_app.app_context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == reply)
            .values(author=EVIL + "\r\nBcc: all@evil.test\x1b[2J")
        )
        # A site's name is an admin's free text: it reaches Subject and List-Id.
        db.session.execute(
            sa.update(Site).values(name="News =?utf-8?q?=0D=0AX-Site:_1?= \x1b")
        )
        db.session.commit()

    run_worker(mail_app)
    [raw] = [r for r in raw_mails(smtp, MODERATOR) if b"A reply with a trap" in r]
    assert_safe(raw, MODERATOR_HEADERS, "Ann")
    [mail] = [m for m in smtp.to(MODERATOR) if "A reply with a trap" in str(m)]
    assert click_button(client, link(mail, "Approve")).status_code == 200

    assert "1 sent" in run_worker(mail_app)
    raw = raw_mails(smtp, ANN)[-1]
    assert_safe(raw, READER_HEADERS, "replied to your comment")

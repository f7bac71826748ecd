"""A mail's URL headers are written as plain ASCII however long the URL: a
mail program finds the one-click unsubscribe URL in ``List-Unsubscribe`` only
if it is not an RFC 2047 encoded word (the SMTP policy encodes any header
with a word longer than a line, and a real public URL makes one). Read as raw
bytes from a real SMTP server."""

import re

import pytest
from crawl import csrf_from
from factories import comment_payload, make_site

from .conftest import SENDER, add_moderator, run_worker, text_part

LONG_URL = "https://comments.a-rather-long-newspaper-domain.example/some/prefix"
ANN = "ann@example.org"
MODERATOR = "mod@news.example"


@pytest.fixture
def long_app(make_app, smtp):
    app = make_app(
        MAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        MAIL_FROM=SENDER,
        PUBLIC_URL=LONG_URL,
        MAIL_RETRY_DELAYS="0.3,0.3",
        MAIL_TIMEOUT=3.0,
    )
    with app.app_context():
        news = make_site()
        add_moderator("mod", sites=[news], email=MODERATOR)
    return app


def raw_mails(smtp, address: str) -> list[bytes]:
    with smtp.lock:
        return [e.content for e in smtp.envelopes if address in e.rcpt_tos]


def head_lines(raw: bytes) -> list[bytes]:
    return re.split(rb"\r?\n", re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0])


def press(client, message, label: str):
    """Open the mail link after 'label: ' (the app's path under the prefix)
    and press its button."""
    [url] = [
        line.split(": ", 1)[1].strip()
        for line in text_part(message).splitlines()
        if line.startswith(f"{label}: {LONG_URL}/")
    ]
    path = url.removeprefix(LONG_URL)
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_from(html)} if "csrf_token" in html else {}
    assert client.post(path, data=data).status_code == 200


def post(client, **fields) -> int:
    response = client.post(
        "/api/v1/sites/news/comments", json=comment_payload(**fields)
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def assert_plain_url_headers(raw: bytes):
    lines = head_lines(raw)
    assert b"=?" not in b"\n".join(
        line for line in lines if not line.startswith(b"Subject:")
    ), lines
    [unsubscribe] = [line for line in lines if line.startswith(b"List-Unsubscribe:")]
    assert re.fullmatch(
        rb"List-Unsubscribe: <" + re.escape(LONG_URL.encode()) + rb"/\S+>",
        unsubscribe,
    ), unsubscribe
    assert len(unsubscribe) > 78  # long enough that folding was in play
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    assert any(re.fullmatch(rb"List-Id: .* <news\.[\w.-]+>", x) for x in lines)
    assert any(re.fullmatch(rb"Message-ID: <\S+@\S+>", x) for x in lines)
    assert all(len(line) <= 998 for line in lines)


def test_confirmation_and_reply_mails_carry_a_plain_unsubscribe_url(long_app, smtp):
    client = long_app.test_client()
    parent = post(client, body="My first point.", notify=True)
    run_worker(long_app)
    [raw_confirm] = raw_mails(smtp, ANN)
    assert_plain_url_headers(raw_confirm)

    [confirm] = smtp.to(ANN)
    press(client, confirm, "Confirm")
    [mail] = [m for m in smtp.to(MODERATOR) if "My first point." in str(m)]
    press(client, mail, "Approve")
    post(
        client,
        author="Bob",
        email="bob@example.org",
        body="A reply.",
        parent_id=parent,
    )
    run_worker(long_app)
    [mail] = [m for m in smtp.to(MODERATOR) if "A reply." in str(m)]
    press(client, mail, "Approve")
    assert "1 sent" in run_worker(long_app)
    raw_reply = raw_mails(smtp, ANN)[-1]
    assert b"replied" in raw_reply
    assert_plain_url_headers(raw_reply)


def test_names_and_subjects_are_still_encoded_in_short_words():
    """Only plain ASCII values of the URL headers skip folding: a non-ASCII
    subject or site name is written as RFC 2047 encoded words of at most 75
    characters on lines of at most 78, and a control character never reaches
    the wire."""
    from commentsvc.mail.headers import new_message

    title = "Réponse à « Un très long titre d'article, avec des accents » " * 3
    message = new_message(SENDER, ANN, title)
    url = f"<{LONG_URL}/mail/unsubscribe/{'A' * 150}>"
    message["List-Unsubscribe"] = url
    message["List-Id"] = "Nachrichten für Übersee <news.news.example>"
    with pytest.raises(ValueError):
        message["Message-ID"] = "<odd\x1bid@news.example>"
    message.set_content("Hello.")
    raw = message.as_bytes()
    lines = head_lines(raw)
    assert f"List-Unsubscribe: {url}".encode() in lines
    words = re.findall(rb"=\?utf-8\?[qb]\?[^?]*\?=", b"\n".join(lines))
    assert words and all(len(word) <= 75 for word in words)
    for line in lines:
        if not line.startswith(b"List-Unsubscribe:"):
            assert len(line) <= 78, line
    assert not any(line.startswith(b"List-Id: Nachrichten f") for line in lines)
    assert b"\x1b" not in raw

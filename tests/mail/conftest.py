"""Mail tests: a real SMTP server (aiosmtpd) on a free port, an app that sends
to it, and helpers to run the real worker and read what arrived."""

import time
from urllib.parse import urlsplit

import pytest
from crawl import csrf_from
from factories import make_site
from smtp_sink import SmtpSink

from commentsvc.extensions import db
from commentsvc.models import Moderator, Role, Site
from commentsvc.moderation.accounts import hash_password

PUBLIC_URL = "https://comments.example"
SENDER = "Example Comments <comments@news.example>"
PASSWORD = "correct horse battery"


@pytest.fixture
def smtp():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_app(make_app, smtp):
    """An app that mails to the sink, with a site 'news', moderator 'mod'
    (with an address) of it, and an admin 'boss' without one."""
    app = make_app(
        MAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        MAIL_FROM=SENDER,
        PUBLIC_URL=PUBLIC_URL,
        MAIL_RETRY_DELAYS="0.3,0.3",
        MAIL_TIMEOUT=3.0,
    )
    with app.app_context():
        news = make_site()
        make_site("blog", "A Blog", allowed_origins=["https://blog.example"])
        add_moderator("mod", sites=[news], email="mod@news.example")
        add_moderator("boss", role=Role.ADMIN)
    return app


_hashes = {}


def add_moderator(username, sites=(), role=Role.MODERATOR, email=None):
    """A moderator whose password is PASSWORD. The hash is made once per run:
    argon2 takes 0.4 s a hash, twice per test on both backends."""
    if PASSWORD not in _hashes:
        _hashes[PASSWORD] = hash_password(PASSWORD)
    moderator = Moderator(
        username=username,
        password_hash=_hashes[PASSWORD],
        role=role,
        email=email,
        sites=[db.session.merge(site) for site in sites if isinstance(site, Site)],
    )
    db.session.add(moderator)
    db.session.commit()
    return moderator


def run_worker(app) -> str:
    """The real worker, once: sends what is due, then exits."""
    result = app.test_cli_runner().invoke(args=["mail", "worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def path_of(url: str) -> str:
    assert url.startswith(PUBLIC_URL + "/"), url
    return urlsplit(url).path


def text_part(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(("html",)).get_content()


def link(message, label: str) -> str:
    """The URL after 'label: ' in the plain-text part."""
    for line in text_part(message).splitlines():
        if line.startswith(f"{label}: {PUBLIC_URL}"):
            return line.split(": ", 1)[1].strip()
    raise AssertionError(f"no {label!r} link in:\n{text_part(message)}")


def click_button(client, url: str):
    """Open a mail link's page (a GET) and press its button (a POST with the
    page's CSRF token), as a person would."""
    page = client.get(path_of(url))
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_from(html)} if "csrf_token" in html else {}
    return client.post(path_of(url), data=data)


def wait_for(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)

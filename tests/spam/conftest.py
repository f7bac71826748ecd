"""Fixtures for the spam tests: a site, form tokens as the embed sends them, and
posts from a chosen reader through the real API."""

import itertools
import secrets
import time

import pytest
from crawl import csrf_from, log_in  # noqa: F401 - csrf_from is re-exported for the tests
from factories import ORIGIN, comment_payload, make_site
from itsdangerous import URLSafeSerializer

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Role
from commentsvc.moderation.accounts import create_moderator
from commentsvc.spam import formtoken

API = "/api/v1/sites/news/comments"
ACCEPTED = "Your comment is awaiting moderation."
PUBLISHED = "Your comment has been published."
PASSWORD = "correct horse battery"
SPAM = CommentStatus.SPAM
PENDING = CommentStatus.PENDING
APPROVED = CommentStatus.APPROVED
# A reader who took this long to write is well over the 3 s minimum.
WRITING_SECONDS = 40
_bodies = itertools.count(1)


@pytest.fixture
def news(app):
    """``news(**settings)``: create the site "news" (allowing ORIGIN) in an app
    context of its own, so every request runs in a fresh one as in production.
    Each rule is tested alone: the learning filter is off unless asked for
    (tests/learning tests it)."""

    def create(slug="news", **settings):
        settings.setdefault("spam_filter_enabled", False)
        with app.app_context():
            make_site(slug, **settings)

    return create


def form_token(app, site="news", age=WRITING_SECONDS, nonce=None) -> str:
    """A form token as POST …/form-token hands it out, issued *age* seconds ago
    (what formtoken.issue signs, with an earlier time: no sleeping)."""
    serializer = URLSafeSerializer(app.config["SECRET_KEY"], salt=formtoken._SALT)
    return serializer.dumps(
        {
            "s": site,
            "t": round(time.time() - age, 3),
            "n": nonce or secrets.token_urlsafe(9),
        }
    )


def post(client, ip="198.51.100.10", **fields):
    """POST a comment from *ip* the way the embed does: Origin, JSON, and a form
    token issued WRITING_SECONDS ago (``form_token=None`` sends none). The body
    is unique unless given, so that only the rule under test can fire."""
    fields.setdefault("body", f"A thoughtful comment, number {next(_bodies)}.")
    fields.setdefault("form_token", form_token(client.application))
    return client.post(
        API,
        json=comment_payload(**fields),
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": ip},
    )


def accepted(response) -> int:
    """Assert the answer every held or spam comment gets (bots learn nothing
    from it); return the comment's id."""
    assert response.status_code == 202, response.get_data(as_text=True)
    comment_id = response.json["id"]
    answer = dict(response.json)
    # Every stored comment's answer carries its author's edit token (spam too).
    assert answer.pop("edit_token") and answer.pop("edit_until")
    assert answer == {"id": comment_id, "status": "pending", "message": ACCEPTED}
    return comment_id


def stored(app, comment_id) -> Comment:
    """The stored row (its columns stay readable after the context closes)."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment is not None
        return comment


def logged_in_client(app, username):
    """A client logged in through the login form (with its CSRF token)."""
    return log_in(app, username, PASSWORD)


@pytest.fixture
def admin_client(app):
    """A logged-in admin of every site."""
    with app.app_context():
        create_moderator("boss", PASSWORD, role=Role.ADMIN)
    return logged_in_client(app, "boss")

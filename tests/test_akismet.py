"""Optional Akismet against a real local stand-in: its verdict, its failure
never blocking a comment, and moderators' decisions sent back to it."""

import time

import pytest
import sqlalchemy as sa
from akismet_standin import KEY, AkismetStandIn
from factories import comment_payload, make_site
from timing import within

from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Moderator, Role
from commentsvc.moderation.accounts import create_moderator

URL = "/api/v1/sites/news/comments"


@pytest.fixture
def standin():
    with AkismetStandIn() as server:
        yield server


def _app(make_app, standin, key=KEY, **config):
    app = make_app(AKISMET_API_URL=standin.url, **config)
    with app.app_context():
        make_site(akismet_key=key)
    return app


def _post(app, body, ip="198.51.100.20"):
    response = app.test_client().post(
        URL, json=comment_payload(body=body), environ_base={"REMOTE_ADDR": ip}
    )
    assert response.status_code == 202
    with app.app_context():
        return db.session.get(Comment, response.json["id"])


def test_akismet_spam_is_stored_as_spam_and_ham_goes_on(make_app, standin):
    app = _app(make_app, standin)
    spam = _post(app, "Cheap VIAGRA here")
    assert spam.status == CommentStatus.SPAM
    assert spam.signals["akismet"] == "spam"
    ham = _post(app, "A thoughtful reply about the article.")
    assert ham.status == CommentStatus.PENDING
    assert ham.signals["akismet"] == "ham"
    [first, second] = standin.calls("comment-check")
    assert first["api_key"] == KEY
    assert first["user_ip"] == "198.51.100.20"
    assert first["comment_content"] == "Cheap VIAGRA here"
    assert first["comment_type"] == "comment"
    assert first["comment_author"] == "Ann Reader"
    assert first["blog"] == "https://news.example"


def test_no_key_no_akismet(make_app, standin):
    app = _app(make_app, standin, key=None)
    assert "akismet" not in _post(app, "Cheap viagra").signals
    assert standin.received == []


@pytest.mark.parametrize("mode", ["error500", "hang", "down"])
def test_akismet_failure_never_blocks_a_comment(make_app, standin, mode):
    if mode == "down":
        standin.__exit__()
    standin.mode = mode
    app = _app(make_app, standin, AKISMET_TIMEOUT=1.0)
    started = time.monotonic()
    comment = _post(app, "Cheap viagra")
    assert time.monotonic() - started < within(3, waits=app.config["AKISMET_TIMEOUT"])
    assert comment.status == CommentStatus.PENDING
    assert comment.signals["akismet"] == "unavailable"


def _moderator(app):
    with app.app_context():
        create_moderator("boss", "correct horse battery", role=Role.ADMIN)


def _decide(app, comment, to_status):
    with app.app_context():
        boss = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        current = db.session.get(Comment, comment.id)
        decision = moderate(boss, [Target(current.id, current.version)], to_status)
        assert decision.changed == [comment.id]


def test_spam_akismet_missed_is_reported_with_submit_spam(make_app, standin):
    app = _app(make_app, standin)
    _moderator(app)
    comment = _post(app, "Buy followers at my shop")
    _decide(app, comment, CommentStatus.SPAM)
    [sent] = standin.calls("submit-spam")
    assert sent["comment_content"] == "Buy followers at my shop"
    assert sent["user_ip"] == "198.51.100.20"
    assert standin.calls("submit-ham") == []


def test_rescued_spam_is_reported_with_submit_ham(make_app, standin):
    app = _app(make_app, standin)
    _moderator(app)
    comment = _post(app, "I take viagra, and this article helped me")
    assert comment.status == CommentStatus.SPAM
    _decide(app, comment, CommentStatus.APPROVED)
    [sent] = standin.calls("submit-ham")
    assert sent["comment_content"].startswith("I take viagra")
    # Confirming what Akismet already said teaches it nothing: no submit-spam.
    assert standin.calls("submit-spam") == []


def test_a_decision_stands_when_akismet_is_down(make_app, standin):
    app = _app(make_app, standin, AKISMET_TIMEOUT=1.0)
    _moderator(app)
    comment = _post(app, "Buy followers at my shop")
    standin.mode = "error500"
    _decide(app, comment, CommentStatus.SPAM)
    with app.app_context():
        assert db.session.get(Comment, comment.id).status == CommentStatus.SPAM

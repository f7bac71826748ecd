"""A login starts a new session: nothing a browser held before it (its CSRF
secret, whatever else was in the cookie) carries over into the logged-in one."""

import pytest
import sqlalchemy as sa
from crawl import csrf_from
from factories import make_comment

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Site

from .conftest import PASSWORD


def _pending(app) -> Comment:
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        comment = make_comment(site, status=CommentStatus.PENDING)
        db.session.expunge(comment)
        return comment


def _status(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).status


def _decide(client, comment, token):
    return client.post(
        "/moderation/decide",
        data={
            "one": f"approve:{comment.id}:{comment.version}",
            "csrf_token": token,
            "next": "/moderation/queue",
        },
    )


@pytest.mark.usefixtures("two_sites")
def test_a_csrf_token_from_before_login_is_refused_after_it(app):
    client = app.test_client()
    planted = csrf_from(client.get("/moderation/login").get_data(as_text=True))
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    response = client.post(
        "/moderation/login",
        data={"username": "mod", "password": PASSWORD, "csrf_token": planted},
    )
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
    comment = _pending(app)

    refused = _decide(client, comment, planted)
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    assert _status(app, comment.id) == CommentStatus.PENDING

    fresh = csrf_from(client.get("/moderation/queue").get_data(as_text=True))
    assert fresh != planted
    assert _decide(client, comment, fresh).status_code == 302
    assert _status(app, comment.id) == CommentStatus.APPROVED

"""Moderators who get a mail for each pending comment get one for an edit of
a published comment awaiting them: old and new text, and the queue's link."""

import sqlalchemy as sa
from factories import ORIGIN, comment_payload

from commentsvc.comments import revisions
from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Moderator

from .conftest import PUBLIC_URL, html_part, run_worker, text_part

API = "/api/v1/sites/news/comments"


def _approved(app, client, body):
    posted = client.post(API, json=comment_payload(body=body)).get_json()
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        boss = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        moderate(boss, [Target(comment.id, comment.version)], CommentStatus.APPROVED)
    return posted


def _edit(client, posted, body):
    response = client.patch(
        f"{API}/{posted['id']}",
        json={"body": body, "edit_token": posted["edit_token"]},
        headers={"Origin": ORIGIN},
    )
    assert response.get_json()["edit_pending"] is True


def test_an_edit_awaiting_moderation_mails_the_moderators(mail_app, smtp):
    client = mail_app.test_client()
    posted = _approved(mail_app, client, "What a lovely idea")
    run_worker(mail_app)
    smtp.messages.clear()

    _edit(client, posted, "What a <b>dreadful</b> idea")
    _edit(client, posted, "What a dreadful idea, call 555-0142")  # one mail, the latest
    assert "1 sent" in run_worker(mail_app)

    [message] = smtp.messages
    assert message["To"] == "mod@news.example"
    assert message["Subject"] == (
        "[Example News] Ann Reader edited a published comment: "
        "the edit awaits a decision"
    )
    text, html = text_part(message), html_part(message)
    for part in (text, html):
        assert "What a lovely idea" in part
        assert "What a dreadful idea, call 555-0142" in part
        assert f"{PUBLIC_URL}/moderation/queue?site=news" in part


def test_an_edit_decided_before_the_worker_runs_sends_no_mail(mail_app, smtp):
    client = mail_app.test_client()
    posted = _approved(mail_app, client, "What a lovely idea")
    run_worker(mail_app)
    smtp.messages.clear()
    _edit(client, posted, "What a dreadful idea")
    with mail_app.app_context():
        revision = revisions.pending_for([posted["id"]])[posted["id"]]
        mod = db.session.scalar(sa.select(Moderator).where(Moderator.username == "mod"))
        revisions.decide(mod, revision.id, revision.version, approve=False)

    run_worker(mail_app)

    assert smtp.messages == []

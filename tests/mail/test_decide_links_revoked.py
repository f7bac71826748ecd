"""A one-click decision link is a credential of its moderator: it stops working
when their sessions are ended (``moderators end-sessions``, logging out) and
when their password changes, like every session does."""

from crawl import csrf_from
from factories import comment_payload

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus
from commentsvc.moderation.accounts import (
    change_own_password,
    get_moderator,
    set_password,
)

from .conftest import PASSWORD, click_button, link, path_of, run_worker

REVOKED = b"sessions ended or password changed, so it no longer works"


def _mailed_approve_link(app, smtp, body="A thoughtful comment.") -> tuple[int, str]:
    client = app.test_client()
    response = client.post(
        "/api/v1/sites/news/comments", json=comment_payload(body=body)
    )
    assert response.status_code == 202
    smtp.messages.clear()
    run_worker(app)
    [message] = smtp.messages
    return response.get_json()["id"], link(message, "Approve")


def _status(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).status


def _refused(app, url) -> bool:
    client = app.test_client()
    page = client.get(path_of(url))
    token = csrf_from(client.get("/moderation/login").get_data(as_text=True))
    pressed = client.post(path_of(url), data={"csrf_token": token})
    return all(r.status_code == 403 and REVOKED in r.data for r in (page, pressed))


def test_end_sessions_revokes_the_mailed_links(mail_app, smtp):
    comment_id, approve = _mailed_approve_link(mail_app, smtp)
    result = mail_app.test_cli_runner().invoke(
        args=["moderators", "end-sessions", "mod"]
    )
    assert result.exit_code == 0, result.output
    assert _refused(mail_app, approve)
    assert _status(mail_app, comment_id) == CommentStatus.PENDING
    # Mail sent from now on carries links that work.
    later_id, later = _mailed_approve_link(mail_app, smtp, "Another one, later.")
    assert click_button(mail_app.test_client(), later).status_code == 200
    assert _status(mail_app, later_id) == CommentStatus.APPROVED


def test_a_password_change_or_reset_revokes_the_mailed_links(mail_app, smtp):
    comment_id, approve = _mailed_approve_link(mail_app, smtp)
    with mail_app.app_context():
        mod = get_moderator("mod")
        change_own_password(mod, PASSWORD, "a brand new passphrase")
    assert _refused(mail_app, approve)

    _, second = _mailed_approve_link(mail_app, smtp, "Another one, later.")
    with mail_app.app_context():
        set_password(get_moderator("mod"), "another new passphrase")
    assert _refused(mail_app, second)
    assert _status(mail_app, comment_id) == CommentStatus.PENDING


def test_the_password_binds_the_link_even_if_the_generation_were_kept(mail_app, smtp):
    """A new password hash alone (a rehash path, a database restore that kept the
    generation) is enough to refuse the link."""
    comment_id, approve = _mailed_approve_link(mail_app, smtp)
    with mail_app.app_context():
        from commentsvc.moderation.accounts import hash_password

        mod = get_moderator("mod")
        mod.password_hash = hash_password("changed behind the service")
        db.session.commit()
    assert _refused(mail_app, approve)
    assert _status(mail_app, comment_id) == CommentStatus.PENDING

"""A moderator replies from the comment's page, as staff: published at once,
with the Staff badge in the listing; a pending comment is approved first."""

import sqlalchemy as sa
from factories import get_site, make_comment

from commentsvc.extensions import db
from commentsvc.models import (
    Account,
    Comment,
    CommentStatus,
    ModerationEvent,
    Moderator,
)

from .conftest import csrf_from

API = "/api/v1/sites/news/comments"


def comment_with(app, status):
    with app.app_context():
        return make_comment(get_site("news"), status=status).id


def reply(client, comment_id, body="Thanks, we have fixed the article."):
    page = client.get(f"/moderation/comments/{comment_id}").get_data(as_text=True)
    version = int(page.split('name="version" value="')[1].split('"')[0])
    return client.post(
        f"/moderation/comments/{comment_id}/reply",
        data={"csrf_token": csrf_from(page), "body": body, "version": version},
    )


def test_a_staff_reply_is_published_with_the_badge(app, mod_client, client):
    parent = comment_with(app, CommentStatus.APPROVED)

    response = reply(mod_client, parent)

    assert response.status_code == 302
    listing = client.get(f"{API}?thread=/article").json["comments"]
    replies = [item for item in listing if item.get("parent_id") == parent]
    assert len(replies) == 1
    assert replies[0]["badge"] == "staff" and replies[0]["author"] == "mod"
    with app.app_context():
        account = db.session.scalars(sa.select(Account)).one()
        mod = db.session.scalars(
            sa.select(Moderator).where(Moderator.username == "mod")
        ).one()
        assert (account.provider, account.subject) == ("staff", str(mod.id))
        assert (account.staff, account.moderator_id) == (True, mod.id)
        stored = db.session.get(Comment, replies[0]["id"])
        assert stored.signals["captcha"] == "signed_in"
        assert stored.signals["staff"] is True and stored.email is None


def test_a_second_reply_uses_the_same_staff_account(app, mod_client):
    parent = comment_with(app, CommentStatus.APPROVED)

    reply(mod_client, parent)
    reply(mod_client, parent, body="And one more thing.")

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 1


def test_replying_to_a_pending_comment_approves_it_first(app, mod_client, client):
    parent = comment_with(app, CommentStatus.PENDING)
    page = mod_client.get(f"/moderation/comments/{parent}").get_data(as_text=True)
    assert "Approve and reply as staff" in page

    reply(mod_client, parent)

    with app.app_context():
        assert db.session.get(Comment, parent).status == CommentStatus.APPROVED
        event = db.session.scalars(
            sa.select(ModerationEvent).where(ModerationEvent.comment_id == parent)
        ).one()
        assert event.to_status == CommentStatus.APPROVED
    listing = client.get(f"{API}?thread=/article").json["comments"]
    assert [item.get("badge") for item in listing] == [None, "staff"]


def test_a_pending_comment_changed_meanwhile_is_not_answered(app, mod_client):
    parent = comment_with(app, CommentStatus.PENDING)
    page = mod_client.get(f"/moderation/comments/{parent}").get_data(as_text=True)
    with app.app_context():
        comment = db.session.get(Comment, parent)
        comment.status, comment.version = CommentStatus.REJECTED, comment.version + 1
        db.session.commit()

    response = mod_client.post(
        f"/moderation/comments/{parent}/reply",
        data={"csrf_token": csrf_from(page), "body": "Hello.", "version": "1"},
    )

    assert response.status_code == 422
    assert "only a published comment" in response.get_data(as_text=True)


def test_a_rejected_comment_is_not_answered_and_the_text_is_kept(app, mod_client):
    parent = comment_with(app, CommentStatus.APPROVED)
    page = mod_client.get(f"/moderation/comments/{parent}").get_data(as_text=True)
    with app.app_context():
        db.session.get(Comment, parent).status = CommentStatus.REJECTED
        db.session.commit()

    response = mod_client.post(
        f"/moderation/comments/{parent}/reply",
        data={"csrf_token": csrf_from(page), "body": "My careful words."},
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This comment is rejected" in html and "My careful words." in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 1


def test_an_empty_reply_is_refused(app, mod_client):
    parent = comment_with(app, CommentStatus.APPROVED)

    response = reply(mod_client, parent, body="   ")

    assert response.status_code == 422
    assert "Write your reply" in response.get_data(as_text=True)


def test_another_site_s_moderator_cannot_reply(app, mod_client):
    from .conftest import logged_in_client

    parent = comment_with(app, CommentStatus.APPROVED)
    blogger = logged_in_client(app, "blogger")
    html = blogger.get("/moderation/queue").get_data(as_text=True)

    response = blogger.post(
        f"/moderation/comments/{parent}/reply",
        data={"csrf_token": csrf_from(html), "body": "Hi."},
    )

    assert response.status_code == 403


def test_a_closed_thread_is_not_answered(app, mod_client):
    from commentsvc.comments import closing

    parent = comment_with(app, CommentStatus.APPROVED)
    with app.app_context():
        closing.set_open("news", "/article", False, None)

    response = reply(mod_client, parent)

    assert response.status_code == 422
    assert "closed to new comments" in response.get_data(as_text=True)


def test_a_pending_comment_edited_meanwhile_is_read_again_first(app, mod_client):
    parent = comment_with(app, CommentStatus.PENDING)
    page = mod_client.get(f"/moderation/comments/{parent}").get_data(as_text=True)
    with app.app_context():
        # Its author edited it (still pending): not what the moderator read.
        db.session.get(Comment, parent).version += 1
        db.session.commit()

    response = mod_client.post(
        f"/moderation/comments/{parent}/reply",
        data={"csrf_token": csrf_from(page), "body": "Agreed.", "version": "1"},
    )

    assert response.status_code == 422
    assert "Your reply was not posted" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Comment, parent).status == CommentStatus.PENDING
        assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 1


def _card(html: str, comment_id: int) -> str:
    return html.split(f'id="c{comment_id}"')[1].split("</article>")[0]


def test_the_queue_links_each_card_to_its_reply_form(app, mod_client):
    pending = comment_with(app, CommentStatus.PENDING)
    approved = comment_with(app, CommentStatus.APPROVED)
    rejected = comment_with(app, CommentStatus.REJECTED)
    link = 'href="/moderation/comments/{}#reply"'

    for status, comment_id in [("pending", pending), ("approved", approved)]:
        html = mod_client.get(f"/moderation/queue?status={status}").get_data(
            as_text=True
        )
        card = _card(html, comment_id)
        assert link.format(comment_id) in card, status
        assert "Reply as staff" in card
    html = mod_client.get("/moderation/queue?status=rejected").get_data(as_text=True)
    assert link.format(rejected) not in _card(html, rejected)
    # The link leads to the form it names.
    page = mod_client.get(f"/moderation/comments/{approved}").get_data(as_text=True)
    assert '<form method="post" action="/moderation/comments/' in page
    assert 'id="reply"' in page

"""The queue shows an author's edit of a published comment (old beside new)
and decides it: Approve publishes the new words, Reject keeps the approved
ones; the edit counts in the Pending tab like a new comment."""

import re

import sqlalchemy as sa
from factories import ORIGIN, comment_payload

from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.models import (
    Comment,
    CommentRevision,
    CommentStatus,
    ModerationEvent,
    Moderator,
    RevisionStatus,
)

from .conftest import csrf_from, logged_in_client

API = "/api/v1/sites/news/comments"
HX = {"HX-Request": "true"}


def _approved_then_edited(app, client, body, edit):
    posted = client.post(API, json=comment_payload(body=body)).json
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        boss = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        moderate(boss, [Target(comment.id, comment.version)], CommentStatus.APPROVED)
    edited = client.patch(
        f"{API}/{posted['id']}",
        json={"body": edit, "edit_token": posted["edit_token"]},
        headers={"Origin": ORIGIN},
    )
    assert edited.json["edit_pending"] is True
    with app.app_context():
        revision = db.session.scalar(
            sa.select(CommentRevision).where(CommentRevision.comment_id == posted["id"])
        )
        db.session.expunge(revision)
    return posted["id"], revision


def _listing(client):
    return [c["html"] for c in client.get(API + "?thread=/article").json["comments"]]


def test_the_pending_tab_shows_the_edit_old_beside_new(app, client, mod_client):
    comment_id, revision = _approved_then_edited(
        app, client, "What a lovely idea", "What a <script>x()</script> idea"
    )

    page = mod_client.get("/moderation/queue").get_data(as_text=True)

    assert 'Pending <span class="count">1</span>' in page
    card = page[page.index(f'id="c{comment_id}"') :]
    assert "Edit awaiting moderation" in card
    assert "What a <del>lovely</del> idea" in card
    assert "What a <ins>&lt;script&gt;x()&lt;/script&gt;</ins> idea" in card
    assert "<script>x()" not in page
    action = f"/moderation/revisions/{revision.id}/decide"
    assert f'formaction="{action}"' in card
    assert f'value="approve:{revision.version}"' in card
    # Published, so the Approved tab shows it too (with its edit).
    assert "Edit awaiting moderation" in mod_client.get(
        "/moderation/queue?status=approved"
    ).get_data(as_text=True)


def test_approve_publishes_the_edit_reject_keeps_the_approved_text(
    app, client, mod_client
):
    first, to_approve = _approved_then_edited(app, client, "Lovely idea", "Lovelier")
    second, to_reject = _approved_then_edited(app, client, "Fine idea", "Awful idea")
    page = mod_client.get("/moderation/queue").get_data(as_text=True)

    approved = mod_client.post(
        f"/moderation/revisions/{to_approve.id}/decide",
        data={
            "csrf_token": csrf_from(page),
            "revision": f"approve:{to_approve.version}",
            "reason": "fine",
            "next": "/moderation/queue",
        },
    )
    rejected = mod_client.post(
        f"/moderation/revisions/{to_reject.id}/decide",
        data={
            "csrf_token": csrf_from(page),
            "revision": f"reject:{to_reject.version}",
            "next": "/moderation/queue",
        },
        headers=HX,
    )

    assert approved.status_code == 302
    assert rejected.status_code == 200
    fragment = rejected.get_data(as_text=True)
    assert f'<div id="c{second}" class="comment-gone"' in fragment
    assert "Rejected the edit of the comment by Ann Reader" in fragment
    assert _listing(client) == ["<p>Lovelier</p>", "<p>Fine idea</p>"]
    with app.app_context():
        reasons = db.session.scalars(
            sa.select(ModerationEvent.reason)
            .where(ModerationEvent.moderator_id.is_not(None))
            .order_by(ModerationEvent.id)
        ).all()
        assert reasons[-2:] == ["edit approved: fine", "edit rejected"]
        statuses = {
            r.comment_id: r.status
            for r in db.session.scalars(sa.select(CommentRevision))
        }
        assert statuses == {
            first: RevisionStatus.APPROVED,
            second: RevisionStatus.REJECTED,
        }
    after = mod_client.get("/moderation/queue").get_data(as_text=True)
    assert 'Pending <span class="count">0</span>' in after


def test_an_edit_replaced_meanwhile_is_not_approved_unseen(app, client, mod_client):
    posted = client.post(API, json=comment_payload(body="Lovely idea")).json
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        boss = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        moderate(boss, [Target(comment.id, comment.version)], CommentStatus.APPROVED)

    def edit(body):
        return client.patch(
            f"{API}/{posted['id']}",
            json={"body": body, "edit_token": posted["edit_token"]},
            headers={"Origin": ORIGIN},
        )

    edit("Lovely idea, really")
    page = mod_client.get("/moderation/queue").get_data(as_text=True)
    seen = re.search(r'revisions/(\d+)/decide" [^>]*value="approve:(\d+)"', page)
    edit("Visit https://evil.example/login now")

    response = mod_client.post(
        f"/moderation/revisions/{seen.group(1)}/decide",
        data={
            "csrf_token": csrf_from(page),
            "revision": f"approve:{seen.group(2)}",
            "next": "/moderation/queue",
        },
        follow_redirects=True,
    )

    assert "The author changed this edit meanwhile" in response.get_data(as_text=True)
    assert _listing(client) == ["<p>Lovely idea</p>"]


def test_another_sites_moderator_cannot_decide_an_edit(app, client, two_sites):
    _, revision = _approved_then_edited(app, client, "Lovely idea", "Lovelier")
    blogger = logged_in_client(app, "blogger")
    page = blogger.get("/moderation/queue").get_data(as_text=True)
    assert "Edit awaiting moderation" not in page

    response = blogger.post(
        f"/moderation/revisions/{revision.id}/decide",
        data={"csrf_token": csrf_from(page), "revision": "approve:1"},
    )

    assert response.status_code == 403
    assert _listing(client) == ["<p>Lovely idea</p>"]


def test_a_bad_revision_form_is_an_error_not_a_500(app, client, mod_client):
    page = mod_client.get("/moderation/queue").get_data(as_text=True)
    for revision_id, value in [
        (1, "publish:1"),
        (1, "approve:x"),
        (999999, "approve:1"),
    ]:
        response = mod_client.post(
            f"/moderation/revisions/{revision_id}/decide",
            data={"csrf_token": csrf_from(page), "revision": value},
        )
        assert response.status_code in (302, 404), (value, response.status_code)
    huge = mod_client.post(
        f"/moderation/revisions/{2**40}/decide",
        data={"csrf_token": csrf_from(page), "revision": "approve:1"},
    )
    assert huge.status_code == 404

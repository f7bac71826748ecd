"""PATCH and DELETE /api/v1/sites/<site>/comments/<id>: an author edits or
deletes their comment from the browser that posted it, within the window."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from factories import ORIGIN, comment_payload, make_site

from commentsvc.extensions import db
from commentsvc.models import (
    Comment,
    CommentRevision,
    CommentStatus,
    ModerationEvent,
    WebhookEvent,
)

API = "/api/v1/sites/news/comments"
LISTING = API + "?thread=/article"


@pytest.fixture
def site(app):
    with app.app_context():
        make_site(max_links=1)


def _post(client, **fields):
    response = client.post(API, json=comment_payload(**fields))
    assert response.status_code == 202
    return response.json


def _set(app, comment_id, **values):
    with app.app_context():
        db.session.execute(
            sa.update(Comment).where(Comment.id == comment_id).values(**values)
        )
        db.session.commit()


def _published(app, client, **fields):
    posted = _post(client, **fields)
    _set(app, posted["id"], status=CommentStatus.APPROVED)
    return posted


def _edit(client, posted, body="Now with the typo fixed.", token=None):
    return client.patch(
        f"{API}/{posted['id']}",
        json={"body": body, "edit_token": token or posted["edit_token"]},
        headers={"Origin": ORIGIN},
    )


def _events(app, comment_id):
    with app.app_context():
        audit = db.session.scalars(
            sa.select(ModerationEvent.reason).where(
                ModerationEvent.comment_id == comment_id
            )
        ).all()
        hooks = db.session.scalars(
            sa.select(WebhookEvent.type).order_by(WebhookEvent.id)
        ).all()
        return audit, hooks


def test_the_post_answer_carries_an_edit_token_only_its_hash_is_stored(
    app, client, site
):
    posted = _post(client)
    assert len(posted["edit_token"]) >= 30
    assert posted["edit_until"].endswith("Z")
    with app.app_context():
        stored = db.session.get(Comment, posted["id"]).edit_token_hash
        assert stored and posted["edit_token"] not in stored


def test_an_edit_within_the_window_shows_edited_and_is_audited(app, client):
    # Where the site publishes its trusted authors' clean posts at once, their
    # clean edit is published at once too (elsewhere it waits: see
    # test_edit_revisions).
    with app.app_context():
        make_site(
            max_links=1,
            moderation_policy="trust_approved_authors",
            trusted_author_min_approved=1,
        )
    posted = _published(app, client)

    response = _edit(client, posted)

    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved"
    assert response.json["edit_pending"] is False
    assert response.json["html"] == "<p>Now with the typo fixed.</p>"
    (shown,) = client.get(LISTING).json["comments"]
    assert shown["html"] == "<p>Now with the typo fixed.</p>"
    assert shown["edited_at"] == response.json["edited_at"] is not None
    audit, hooks = _events(app, posted["id"])
    assert audit == ["edited by its author"]
    assert hooks[-1] == "comment.edited"


def test_a_pending_comments_edit_replaces_its_text_and_stays_pending(app, client, site):
    posted = _post(client)

    response = _edit(client, posted)

    assert response.status_code == 200
    assert response.json["status"] == "pending" and response.json["html"] is None
    assert response.json["edit_pending"] is False
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert comment.status == CommentStatus.PENDING
        assert comment.body == "Now with the typo fixed."


def test_an_edit_the_spam_rules_hold_waits_and_the_approved_text_stays(
    app, client, site
):
    posted = _published(app, client)

    response = _edit(client, posted, body="Buy https://a.example https://b.example")

    assert response.status_code == 200
    assert response.json["status"] == "approved"
    assert response.json["edit_pending"] is True
    assert response.json["html"] == "<p>A thoughtful comment.</p>"
    (shown,) = client.get(LISTING).json["comments"]
    assert shown["html"] == "<p>A thoughtful comment.</p>"
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert comment.status == CommentStatus.APPROVED
        assert comment.body == "A thoughtful comment."
        (revision,) = db.session.scalars(sa.select(CommentRevision)).all()
        assert revision.signals["held"]["too_many_links"]


def test_the_edit_window_counts_from_posting_not_from_the_last_edit(app, client, site):
    posted = _post(client)
    assert _edit(client, posted, body="First fix.").status_code == 200
    with app.app_context():
        created = db.session.get(Comment, posted["id"]).created_at
    # Posted 301 s ago, edited just now: the window (300 s) is over all the same.
    _set(app, posted["id"], created_at=created - timedelta(seconds=301))

    late = _edit(client, posted, body="Second fix, too late.")

    assert late.status_code == 403
    assert late.json["error"]["code"] == "edit_window_closed"
    with app.app_context():
        assert db.session.get(Comment, posted["id"]).body == "First fix."


def test_a_wrong_or_missing_token_or_a_closed_window_is_403(app, client, site):
    posted = _published(app, client)
    wrong = _edit(client, posted, token="not-the-token")
    assert wrong.status_code == 403
    assert wrong.json["error"]["code"] == "edit_token_invalid"
    missing = client.patch(f"{API}/{posted['id']}", json={"body": "x"})
    assert missing.json["error"]["code"] == "edit_token_invalid"

    with app.app_context():
        created = db.session.get(Comment, posted["id"]).created_at
    _set(app, posted["id"], created_at=created - timedelta(seconds=301))
    late = _edit(client, posted)
    assert late.status_code == 403
    assert late.json["error"]["code"] == "edit_window_closed"
    gone = client.delete(
        f"{API}/{posted['id']}", headers={"X-Edit-Token": posted["edit_token"]}
    )
    assert gone.json["error"]["code"] == "edit_window_closed"
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert comment.body == "A thoughtful comment." and comment.edited_at is None
    assert client.patch(f"{API}/999999", json={"body": "x"}).status_code == 404
    assert _edit(client, posted, body="  ").status_code == 422


def test_deleting_removes_it_or_leaves_a_placeholder_for_its_replies(app, client, site):
    lonely = _published(app, client, body="Nobody answered me.")
    parent = _published(app, client, body="I was answered.")
    reply = _published(app, client, parent_id=parent["id"], body="An answer.")

    assert (
        client.delete(
            f"{API}/{lonely['id']}", headers={"X-Edit-Token": lonely["edit_token"]}
        ).status_code
        == 204
    )
    # The token may come in a JSON body instead of the header.
    response = client.delete(
        f"{API}/{parent['id']}", json={"edit_token": parent["edit_token"]}
    )
    assert response.status_code == 204

    listing = client.get(LISTING).json
    assert listing["count"] == 1
    placeholder, answer = listing["comments"]
    assert placeholder == {
        "id": parent["id"],
        "parent_id": None,
        "author": "",
        "html": "",
        "created_at": placeholder["created_at"],
        "edited_at": None,
        "deleted": True,
    }
    assert (answer["id"], answer["parent_id"]) == (reply["id"], parent["id"])
    audit, hooks = _events(app, parent["id"])
    assert audit == ["deleted by its author"]
    assert hooks.count("comment.deleted") == 2
    again = client.delete(
        f"{API}/{parent['id']}", headers={"X-Edit-Token": parent["edit_token"]}
    )
    assert again.status_code == 404


def test_a_window_of_zero_gives_no_token(app, client):
    with app.app_context():
        make_site(edit_window_seconds=0)
    assert "edit_token" not in _post(client)


def test_text_that_is_not_valid_unicode_is_422_and_changes_nothing(app, client, site):
    # A lone surrogate is valid JSON (\ud800) but no text: it answered 500
    # (the renderer, the token's hash and the database cannot encode it).
    posted = _published(app, client)
    url = f"{API}/{posted['id']}"
    token = posted["edit_token"]
    tries = [
        ("PATCH", '{"body": "x\\ud800", "edit_token": "' + token + '"}', "body"),
        ("PATCH", '{"body": "fine", "edit_token": "\\udfff"}', "edit_token"),
        ("PATCH", '{"body": "a\\u0085b", "edit_token": "' + token + '"}', "body"),
        ("DELETE", '{"edit_token": "\\ud800"}', "edit_token"),
    ]

    for method, raw, field in tries:
        response = client.open(
            url,
            method=method,
            data=raw,
            content_type="application/json",
            headers={"Origin": ORIGIN},
        )
        assert response.status_code == 422, (raw, response.status_code)
        assert list(response.json["error"]["fields"]) == [field]

    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert (comment.status, comment.body, comment.edited_at) == (
            CommentStatus.APPROVED,
            "A thoughtful comment.",
            None,
        )


def test_an_edit_cannot_republish_a_comment_its_readers_reported(app, client):
    # A trusted author's comment that reports sent back to Pending "until a
    # moderator decides" was published again by a one-letter edit.
    with app.app_context():
        make_site(
            report_threshold=1,
            moderation_policy="trust_approved_authors",
            trusted_author_min_approved=1,
        )
    _published(app, client, thread="/earlier", url=f"{ORIGIN}/earlier")
    posted = _published(app, client)
    reported = client.post(
        f"{API}/{posted['id']}/reports",
        json={"reason": "abuse"},
        headers={"Origin": ORIGIN},
    )
    assert reported.status_code == 202
    assert client.get(LISTING).json["count"] == 0

    response = _edit(client, posted, body="A thoughtful comment!")

    assert response.status_code == 200
    assert response.json["status"] == "pending" and response.json["html"] is None
    assert client.get(LISTING).json["count"] == 0
    with app.app_context():
        assert db.session.get(Comment, posted["id"]).status == CommentStatus.PENDING

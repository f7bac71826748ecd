"""POST /api/v1/sites/<site>/comments/<id>/reports: readers report published
comments; at the site's threshold a comment goes back to Pending."""

import pytest
import sqlalchemy as sa
from factories import ORIGIN, get_site, make_comment, make_site

from commentsvc.extensions import db
from commentsvc.models import (
    Comment,
    CommentReport,
    CommentStatus,
    ModerationEvent,
    WebhookEvent,
)

API = "/api/v1/sites/news/comments"


@pytest.fixture
def comment_id(app):
    with app.app_context():
        site = make_site(report_threshold=2)
        return make_comment(site, author="Ann").id


def report(client, comment_id, ip="198.51.100.7", token=None, **fields):
    fields.setdefault("reason", "spam")
    if token:
        fields["token"] = token
    return client.post(
        f"{API}/{comment_id}/reports",
        json=fields,
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": ip},
    )


def _reports(app):
    with app.app_context():
        return list(db.session.scalars(sa.select(CommentReport)))


def test_a_report_is_stored_hashed_and_sent_as_a_webhook_event(app, client, comment_id):
    response = report(client, comment_id, token="browser-1", reason="abuse")

    assert response.status_code == 202
    assert response.json["status"] == "received"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    (stored,) = _reports(app)
    assert (stored.comment_id, stored.reason) == (comment_id, "abuse")
    assert "198.51.100.7" not in stored.ip_hash and stored.token_hash != "browser-1"
    with app.app_context():
        event = db.session.scalars(
            sa.select(WebhookEvent).where(WebhookEvent.type == "comment.reported")
        ).one()
        assert event.payload["data"]["comment"]["id"] == comment_id
        assert event.payload["data"]["report"] == {
            "reason": "abuse",
            "explanation": None,
            "open_reports": 1,
        }
        # One report changes nothing a reader sees.
        assert db.session.get(Comment, comment_id).status == CommentStatus.APPROVED


def test_one_report_per_reader_by_browser_token_or_tokenless_network(
    app, client, comment_id
):
    assert report(client, comment_id, token="browser-1").status_code == 202
    # The same token from elsewhere, then the same network without a token:
    # answered alike (idempotent), never counted.
    assert (
        report(client, comment_id, ip="203.0.113.9", token="browser-1").status_code
        == 202
    )
    assert report(client, comment_id).status_code == 202
    assert len(_reports(app)) == 1
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == CommentStatus.APPROVED


def test_at_the_threshold_the_comment_goes_back_to_pending_audited(
    app, client, comment_id
):
    assert client.get(f"{API}?thread=/article").json["count"] == 1
    report(client, comment_id, ip="198.51.100.7", token="a")
    report(
        client,
        comment_id,
        ip="203.0.113.9",
        token="b",
        reason="illegal",
        explanation="It repeats a libel a court has ruled on.",
    )

    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status == CommentStatus.PENDING
        (event,) = db.session.scalars(
            sa.select(ModerationEvent).where(ModerationEvent.comment_id == comment_id)
        )
        assert event.moderator_id is None
        assert (event.from_status, event.to_status) == (
            CommentStatus.APPROVED,
            CommentStatus.PENDING,
        )
        assert event.reason == "reported"
    listing = client.get(f"{API}?thread=/article").json
    assert listing["count"] == 0 and listing["comments"] == []
    # Unpublished now: no more reports of it.
    assert report(client, comment_id, ip="192.0.2.50").status_code == 404


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"reason": "boring"}, "reason"),
        ({}, "reason"),
        ({"reason": "illegal"}, "explanation"),
        ({"reason": "illegal", "explanation": "   "}, "explanation"),
        ({"reason": "spam", "explanation": 5}, "explanation"),
        ({"reason": "spam", "explanation": "x" * 2001}, "explanation"),
    ],
)
def test_a_report_needs_a_known_reason_and_for_illegal_an_explanation(
    app, client, comment_id, fields, field
):
    response = client.post(f"{API}/{comment_id}/reports", json=fields)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert _reports(app) == []


def test_unknown_unpublished_or_other_sites_comments_are_404(app, client, comment_id):
    with app.app_context():
        pending = make_comment(get_site(), status=CommentStatus.PENDING).id
        other = make_comment(make_site("blog", "Blog")).id
    for ident in (pending, other, comment_id + 1000):
        response = report(client, ident)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    assert client.post(API + "/1/reports", data="x").status_code == 415


def test_reports_are_rate_limited_per_client(make_app):
    app = make_app(RATELIMIT_REPORT="2/minute")
    with app.app_context():
        site = make_site(report_threshold=100)
        ids = [make_comment(site).id for _ in range(3)]
    client = app.test_client()
    statuses = [report(client, ident).status_code for ident in ids]
    assert statuses == [202, 202, 429]
    assert report(client, ids[2], ip="203.0.113.9").status_code == 202


@pytest.mark.parametrize(
    "raw, field",
    [
        ('{"reason": "abuse", "explanation": "rude \\ud800"}', "explanation"),
        ('{"reason": "abuse", "token": "\\udfff"}', "token"),
        ('{"reason": "abuse", "explanation": "a\\u009bb"}', "explanation"),
    ],
)
def test_text_that_is_not_valid_unicode_is_422_and_stores_nothing(
    app, client, comment_id, raw, field
):
    # A lone surrogate answered 500 (its keyed hash and the database cannot
    # encode it).
    response = client.post(
        f"{API}/{comment_id}/reports",
        data=raw,
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )

    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == [field]
    assert _reports(app) == []

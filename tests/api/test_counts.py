"""GET /api/v1/sites/<site>/counts: the approved comments of many threads at
once (what count.js fills a list of articles with), public and cacheable like
the listing, served from the read cache and dropped with the listing."""

import time

import pytest
import sqlalchemy as sa
from factories import ORIGIN, get_site, make_comment, make_site

from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Moderator, Role, Thread
from commentsvc.moderation.accounts import create_moderator

COUNTS = "/api/v1/sites/news/counts"


def _counts(client, *keys, **kwargs):
    return client.get(COUNTS, query_string={"thread": list(keys)}, **kwargs)


@pytest.fixture
def site(app):
    with app.app_context():
        make_site()
        create_moderator("boss", "correct horse battery", role=Role.ADMIN)


def _add(app, thread, status=CommentStatus.APPROVED) -> int:
    with app.app_context():
        return make_comment(get_site("news"), thread=thread, status=status).id


def _decide(app, comment_id, status) -> None:
    with app.app_context():
        boss = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        comment = db.session.get(Comment, comment_id)
        decision = moderate(boss, [Target(comment.id, comment.version)], status)
        assert decision.changed == [comment_id]


def test_counts_approved_comments_per_thread_and_unknown_threads_as_zero(
    app, client, site
):
    for status in (
        CommentStatus.APPROVED,
        CommentStatus.APPROVED,
        CommentStatus.PENDING,
        CommentStatus.SPAM,
        CommentStatus.REJECTED,
        CommentStatus.DELETED,
    ):
        _add(app, "/a", status)
    _add(app, "/b", CommentStatus.PENDING)
    _add(app, "/c")
    with app.app_context():
        make_site("other", "Other")
        make_comment(get_site("other"), thread="/a")

    response = _counts(client, "/a", "/b", "/c", "/never", "/a")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"counts": {"/a": 2, "/b": 0, "/c": 1, "/never": 0}}
    # In the order asked, each once.
    assert list(response.json["counts"]) == ["/a", "/b", "/c", "/never"]
    # Reads create no threads.
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Thread.id).where(Thread.key == "/never"))
            is None
        )


def test_keys_are_stripped_like_the_listings(app, client, site):
    _add(app, "/a")

    assert _counts(client, "  /a\t").json == {"counts": {"/a": 1}}


def test_a_hundred_threads_are_one_request(client, site):
    keys = [f"/article-{n}" for n in range(100)]

    response = _counts(client, *keys)

    assert response.status_code == 200
    assert response.json["counts"] == dict.fromkeys(keys, 0)


@pytest.mark.parametrize(
    "keys",
    [
        [],
        [f"/article-{n}" for n in range(101)],
        [""],
        ["   "],
        ["/a", "x" * 513],
        ["/a", "/b\x01"],
    ],
    ids=["none", "101", "empty", "blank", "too-long", "control-character"],
)
def test_no_thread_too_many_or_a_bad_key_is_422_on_thread(client, site, keys):
    response = _counts(client, *keys)

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"thread"}


def test_unknown_site_is_404_like_the_listing(client, site):
    for slug in ("nosuchsite", "Not A Slug"):
        response = client.get(f"/api/v1/sites/{slug}/counts?thread=/a")
        assert response.status_code == 404
        assert response.json["error"]["code"] == "unknown_site"


def test_cacheable_like_the_listing_with_an_etag(app, client, site):
    response = _counts(client, "/a", "/b")

    assert response.headers["ETag"]
    assert response.cache_control.public
    assert response.cache_control.max_age == 30
    assert "Set-Cookie" not in response.headers
    assert "Origin" in response.vary

    etag = response.headers["ETag"]
    same = _counts(client, "/a", "/b", headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.get_data() == b""

    _add(app, "/b", CommentStatus.PENDING)
    assert _counts(client, "/a", "/b", headers={"If-None-Match": etag}).status_code == (
        304
    )
    _add(app, "/b")
    changed = _counts(client, "/a", "/b", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json["counts"] == {"/a": 0, "/b": 1}


def test_max_age_follows_configuration(make_app):
    app = make_app(API_CACHE_MAX_AGE=120)
    with app.app_context():
        make_site()

    response = _counts(app.test_client(), "/a")

    assert response.cache_control.max_age == 120


def test_cors_like_the_listing(client, site):
    allowed = _counts(client, "/a", headers={"Origin": ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers

    refused = _counts(client, "/a", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused.headers

    preflight = client.options(
        COUNTS,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_other_methods_are_405(client, site):
    response = client.post(COUNTS + "?thread=/a", json={})

    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def test_rate_limited_like_reads(make_app):
    app = make_app(RATELIMIT_READ="3/minute")
    with app.app_context():
        make_site()
    client = app.test_client()

    statuses = [_counts(client, "/a").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/v1/sites/news/comments?thread=/a").status_code == 429


@pytest.fixture
def cached_app(make_app):
    app = make_app(READ_CACHE_TTL=60)
    with app.app_context():
        make_site()
        create_moderator("boss", "correct horse battery", role=Role.ADMIN)
    return app


def _warm(app, client) -> None:
    _counts(client, "/a")
    assert app.extensions["commentsvc.read_cache"].subscribed.wait(5)


def test_served_from_the_read_cache_and_dropped_when_a_decision_changes_a_count(
    cached_app,
):
    app = cached_app
    pending = _add(app, "/a", CommentStatus.PENDING)
    other = _add(app, "/b")
    client = app.test_client()
    _warm(app, client)
    assert _counts(client, "/a", "/b").json["counts"] == {"/a": 0, "/b": 1}

    # Behind the service's back: the cache keeps serving what it had.
    with app.app_context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == pending)
            .values(status=CommentStatus.APPROVED)
        )
        db.session.commit()
    assert _counts(client, "/a").json["counts"] == {"/a": 0}
    with app.app_context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == pending)
            .values(status=CommentStatus.PENDING)
        )
        db.session.commit()

    # Through the service: approved, then removed, each seen at once.
    _decide(app, pending, CommentStatus.APPROVED)
    assert _counts(client, "/a", "/b").json["counts"] == {"/a": 1, "/b": 1}
    _decide(app, other, CommentStatus.DELETED)
    assert _counts(client, "/a", "/b").json["counts"] == {"/a": 1, "/b": 0}
    # A comment published at once (a trusted author) counts at once too.
    _add(app, "/c")
    assert _counts(client, "/c").json["counts"] == {"/c": 1}


def test_a_decision_in_another_process_reaches_cached_counts(make_app, cached_app):
    reader = cached_app
    moderator_app = make_app(READ_CACHE_TTL=60)
    pending = _add(reader, "/a", CommentStatus.PENDING)
    client = reader.test_client()
    _warm(reader, client)
    assert _counts(client, "/a").json["counts"] == {"/a": 0}

    _decide(moderator_app, pending, CommentStatus.APPROVED)

    deadline = time.monotonic() + 5
    while _counts(client, "/a").json["counts"] != {"/a": 1}:
        assert time.monotonic() < deadline, "invalidation never arrived"
        time.sleep(0.05)

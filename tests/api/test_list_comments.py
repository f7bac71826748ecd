"""GET /api/v1/sites/<site>/comments: the public, cacheable thread listing, and
the CORS rules for reading it (and for preflights)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from factories import ORIGIN, get_site, make_comment, make_site

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Thread

API = "/api/v1/sites/news/comments"
LISTING = API + "?thread=/article"


@pytest.fixture
def site(app):
    """The site "news" (allowing ORIGIN), stored in an app context of its own so
    that every request below runs in a fresh one, as in production."""
    with app.app_context():
        make_site()


def _add_comments(app, *specs):
    """Store comments on "news" from (thread, status, fields) specs; return ids."""
    ids = []
    with app.app_context():
        site = get_site("news")
        for thread, status, fields in specs:
            ids.append(make_comment(site, thread=thread, status=status, **fields).id)
    return ids


# --- the listing -----------------------------------------------------------------


def test_lists_only_approved_comments_oldest_first_with_replies(app, client, site):
    first, _, _, _, _, reply, _ = _add_comments(
        app,
        ("/article", CommentStatus.APPROVED, {"author": "First"}),
        ("/article", CommentStatus.PENDING, {}),
        ("/article", CommentStatus.REJECTED, {}),
        ("/article", CommentStatus.SPAM, {}),
        ("/article", CommentStatus.DELETED, {}),
        ("/article", CommentStatus.APPROVED, {"author": "Second"}),
        ("/other-article", CommentStatus.APPROVED, {}),
    )
    with app.app_context():
        db.session.execute(
            sa.update(Comment).where(Comment.id == reply).values(parent_id=first)
        )
        db.session.commit()

    response = client.get(LISTING)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    listing = response.json
    assert listing["site"] == "news"
    assert listing["thread"] == "/article"
    assert listing["count"] == 2
    assert [c["id"] for c in listing["comments"]] == [first, reply]
    assert [c["author"] for c in listing["comments"]] == ["First", "Second"]
    assert [c["parent_id"] for c in listing["comments"]] == [None, first]
    for comment in listing["comments"]:
        assert set(comment) == {
            "id",
            "parent_id",
            "author",
            "html",
            "created_at",
            "edited_at",
        }
        assert comment["edited_at"] is None
        assert comment["created_at"].endswith("Z")
    assert listing["comments"][0]["html"].startswith("<p>Comment number")


def test_orders_by_creation_time_not_by_id(app, client, site):
    older_id, newer_id = _add_comments(
        app,
        ("/article", CommentStatus.APPROVED, {}),
        ("/article", CommentStatus.APPROVED, {}),
    )
    with app.app_context():
        newer = db.session.get(Comment, newer_id)
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == older_id)
            .values(created_at=newer.created_at + timedelta(hours=1))
        )
        db.session.commit()

    ids = [c["id"] for c in client.get(LISTING).json["comments"]]

    assert ids == [newer_id, older_id]


def test_config_block_shows_the_captcha_site_key_never_the_secret(app, client):
    with app.app_context():
        make_site(
            captcha_provider="hcaptcha",
            captcha_site_key="public-site-key",
            captcha_secret="very-private-secret",
            require_email=True,
            max_length=1234,
        )

    response = client.get(LISTING)

    assert response.status_code == 200
    assert response.json["config"] == {
        "captcha": {"provider": "hcaptcha", "site_key": "public-site-key"},
        "require_email": True,
        "max_length": 1234,
        "notify_replies": False,  # this app sends no mail
        "default_sort": "oldest",
        "max_reply_depth": 4,
        "sign_in": {
            "guests": True,
            "sso": False,
            "email": False,
            "oidc": None,
            "skip_captcha": True,
        },
    }
    assert b"very-private-secret" not in response.get_data()


def test_default_config_block(client, site):
    assert client.get(LISTING).json["config"] == {
        "captcha": {"provider": "none", "site_key": None},
        "require_email": False,
        "max_length": 5000,
        "notify_replies": False,
        "default_sort": "oldest",
        "max_reply_depth": 4,
        "sign_in": {
            "guests": True,
            "sso": False,
            "email": False,
            "oidc": None,
            "skip_captcha": True,
        },
    }


def test_unknown_thread_is_an_empty_list_and_creates_no_thread(app, client, site):
    response = client.get(API + "?thread=/never-commented")

    assert response.status_code == 200
    assert response.json["thread"] == "/never-commented"
    assert response.json["count"] == 0
    assert response.json["comments"] == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Thread.id))) == 0


def test_thread_key_is_stripped_of_surrounding_whitespace(app, client, site):
    (comment_id,) = _add_comments(app, ("/article", CommentStatus.APPROVED, {}))

    response = client.get(API, query_string={"thread": "  /article \t"})

    assert response.json["thread"] == "/article"
    assert [c["id"] for c in response.json["comments"]] == [comment_id]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"thread": ""},
        {"thread": "   "},
        {"thread": "x" * 513},
        {"thread": "/a\x00b"},
        {"thread": "/a\x1bb"},
    ],
    ids=["missing", "empty", "blank", "too-long", "nul", "escape"],
)
def test_missing_or_bad_thread_param_is_422(client, site, query):
    response = client.get(API, query_string=query)

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"thread"}


def test_thread_key_of_512_characters_is_accepted(client, site):
    response = client.get(API, query_string={"thread": "k" * 512})

    assert response.status_code == 200
    assert response.json["thread"] == "k" * 512


def test_unknown_site_is_404(client, site):
    response = client.get("/api/v1/sites/nosuchsite/comments?thread=/article")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_site"


# --- caching ---------------------------------------------------------------------


def test_listing_is_cacheable_by_a_cdn(client, site):
    response = client.get(LISTING)

    assert response.status_code == 200
    assert response.headers["ETag"]
    assert response.cache_control.public
    assert response.cache_control.max_age == 30
    assert "Set-Cookie" not in response.headers
    assert "Origin" in response.vary


def test_max_age_follows_configuration(make_app):
    app = make_app(API_CACHE_MAX_AGE=120)
    with app.app_context():
        make_site()

    response = app.test_client().get(LISTING)

    assert response.cache_control.max_age == 120


def test_if_none_match_answers_304_until_the_listing_changes(app, client, site):
    etag = client.get(LISTING).headers["ETag"]

    not_modified = client.get(LISTING, headers={"If-None-Match": etag})

    assert not_modified.status_code == 304
    assert not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == etag

    _add_comments(app, ("/article", CommentStatus.APPROVED, {}))
    changed = client.get(LISTING, headers={"If-None-Match": etag})

    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json["count"] == 1


def test_a_pending_comment_does_not_change_the_etag(app, client, site):
    etag = client.get(LISTING).headers["ETag"]
    _add_comments(app, ("/article", CommentStatus.PENDING, {}))

    assert client.get(LISTING, headers={"If-None-Match": etag}).status_code == 304


def test_stale_etag_gets_the_full_listing(client, site):
    response = client.get(LISTING, headers={"If-None-Match": '"not-the-etag"'})

    assert response.status_code == 200
    assert response.json["count"] == 0


# --- CORS --------------------------------------------------------------------------


def test_allowed_origin_is_echoed_without_credentials(client, site):
    response = client.get(LISTING, headers={"Origin": ORIGIN})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response.vary
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_allowed_origin_matches_in_canonical_form(client, site):
    origin = "HTTPS://News.Example:443"

    response = client.get(LISTING, headers={"Origin": origin})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin


def test_service_own_origin_is_allowed(client, site):
    response = client.get(LISTING, headers={"Origin": "http://localhost"})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost"


def test_304_for_an_allowed_origin_carries_cors_headers(client, site):
    etag = client.get(LISTING, headers={"Origin": ORIGIN}).headers["ETag"]

    response = client.get(LISTING, headers={"Origin": ORIGIN, "If-None-Match": etag})

    assert response.status_code == 304
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://news.example",  # another scheme is another origin
        "https://news.example:8443",
        "https://sub.news.example",
        "null",
        "",
        "https://news.example/path",
    ],
)
def test_disallowed_origin_is_403_on_get(client, site, origin):
    response = client.get(LISTING, headers={"Origin": origin})

    assert response.status_code == 403
    assert response.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "comments" not in response.json


def test_request_without_origin_is_allowed(client, site):
    response = client.get(LISTING)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_validation_error_for_an_allowed_origin_is_readable(client, site):
    response = client.get(API, headers={"Origin": ORIGIN})

    assert response.status_code == 422
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def test_preflight_for_allowed_origin_is_204(client, site):
    response = client.options(API, headers=PREFLIGHT)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    methods = {
        m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")
    }
    assert {"GET", "POST"} <= methods
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed
    assert "if-none-match" in allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.vary


def test_preflight_for_disallowed_origin_is_403(client, site):
    response = client.options(
        API, headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )

    assert response.status_code == 403
    assert response.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


def test_preflight_for_unknown_site_is_404(client, site):
    response = client.options("/api/v1/sites/nosuchsite/comments", headers=PREFLIGHT)

    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_site"

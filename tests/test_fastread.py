"""The read fast path answers exactly what the Flask view answers."""

import pytest
from factories import ORIGIN, make_comment, make_site
from werkzeug.test import Client
from werkzeug.wrappers import Response

LISTING = "/api/v1/sites/news/comments"


@pytest.fixture
def cached_app(make_app):
    app = make_app(READ_CACHE_TTL=60)
    with app.app_context():
        site = make_site()
        make_comment(site, body="Hello <there> https://example.org")
    return app


def _both(app, **kwargs):
    """The same request through the fast path and through Flask alone."""
    fast = Client(app.wsgi_app, Response)
    flask_only = Client(app.wsgi_app.wsgi_app, Response)
    # Warm the cache through Flask, and wait until it listens for invalidations.
    flask_only.open(LISTING, query_string={"thread": "/article"})
    assert app.extensions["commentsvc.read_cache"].subscribed.wait(5)
    flask_only.open(LISTING, query_string={"thread": "/article"})
    served = app.wsgi_app.served
    a = fast.open(LISTING, **kwargs)
    b = flask_only.open(LISTING, **kwargs)
    return a, b, app.wsgi_app.served - served


def _headers(response):
    return sorted(
        (k, v) for k, v in response.headers.items() if k not in ("X-Request-ID", "Date")
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"headers": {"Origin": ORIGIN}},
        {"headers": {"X-Request-ID": "edge-123"}},
        {"base_url": "https://comments.example"},
        {
            "headers": {"Origin": "https://comments.example"},
            "base_url": "https://comments.example",
        },
    ],
    ids=["plain", "allowed-origin", "request-id", "https", "own-origin"],
)
def test_the_fast_path_answers_like_flask(cached_app, kwargs):
    kwargs = {"query_string": {"thread": "/article"}, **kwargs}
    fast, flask_only, served = _both(cached_app, **kwargs)
    assert served == 1
    assert fast.status == flask_only.status == "200 OK"
    assert fast.data == flask_only.data
    assert _headers(fast) == _headers(flask_only)
    if "X-Request-ID" in kwargs.get("headers", {}):
        assert fast.headers["X-Request-ID"] == "edge-123"


@pytest.mark.parametrize("matching", [True, False])
def test_conditional_requests_match_flask(cached_app, matching):
    warm = Client(cached_app.wsgi_app, Response).get(
        LISTING, query_string={"thread": "/article"}
    )
    etag = warm.headers["ETag"] if matching else '"other"'
    fast, flask_only, _ = _both(
        cached_app,
        query_string={"thread": "/article"},
        headers={"If-None-Match": f'W/{etag}, "x"' if matching else etag},
    )
    assert fast.status_code == flask_only.status_code == (304 if matching else 200)
    assert fast.data == flask_only.data
    assert _headers(fast) == _headers(flask_only)


@pytest.mark.parametrize(
    "kwargs",
    [
        {
            "query_string": {"thread": "/article"},
            "headers": {"Origin": "https://evil.example"},
        },
        {"query_string": {"thread": "/never-read"}},
        {"query_string": {"thread": "/article", "extra": "1"}},
        {"query_string": {"thread": ""}},
    ],
    ids=["refused-origin", "not-cached", "odd-query", "empty-thread"],
)
def test_anything_else_goes_to_flask(cached_app, kwargs):
    fast, flask_only, served = _both(cached_app, **kwargs)
    assert served == 0
    assert fast.status_code == flask_only.status_code
    assert fast.data == flask_only.data


def test_a_refused_read_is_answered_by_flask_as_429(make_app):
    app = make_app(READ_CACHE_TTL=60, RATELIMIT_READ="3/minute")
    with app.app_context():
        make_site()
    client = Client(app.wsgi_app, Response)
    statuses = [
        client.get(LISTING, query_string={"thread": "/a"}).status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    refused = client.get(LISTING, query_string={"thread": "/a"})
    assert refused.json["error"]["code"] == "rate_limited"


def test_later_pages_are_served_by_the_fast_path_like_flask(make_app):
    app = make_app(READ_CACHE_TTL=60, LISTING_PAGE_SIZE=2)
    with app.app_context():
        site = make_site()
        for n in range(5):
            make_comment(site, body=f"Comment {n}")
    fast = Client(app.wsgi_app, Response)
    flask_only = Client(app.wsgi_app.wsgi_app, Response)
    first = flask_only.open(LISTING, query_string={"thread": "/article"})
    assert app.extensions["commentsvc.read_cache"].subscribed.wait(5)
    query = {"thread": "/article", "cursor": first.json["next"]}
    flask_only.open(LISTING, query_string=query)  # cached now
    served = app.wsgi_app.served

    a = fast.open(LISTING, query_string=query)
    b = flask_only.open(LISTING, query_string=query)

    assert app.wsgi_app.served - served == 1
    assert (a.status_code, a.data, _headers(a)) == (b.status_code, b.data, _headers(b))
    assert [c["id"] for c in a.json["comments"]] != [
        c["id"] for c in first.json["comments"]
    ]

"""What the read fast path owes operators and caches besides the body: its
requests counted in /metrics and logged like the Flask view's, and a 304 for
``If-None-Match: *``. (tests/test_fastread.py compares bodies and headers.)"""

import pytest
from factories import make_comment, make_site
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client
from werkzeug.wrappers import Response

LISTING = "/api/v1/sites/news/comments"
THREAD = {"thread": "/article"}
LATENCY = "commentsvc_http_request_duration_seconds"


@pytest.fixture
def cached_app(make_app):
    """An app with the read cache on and the listing of /article in it."""
    app = make_app(READ_CACHE_TTL=60)
    with app.app_context():
        make_comment(make_site())
    flask_only = Client(app.wsgi_app.wsgi_app, Response)
    flask_only.get(LISTING, query_string=THREAD)
    # Entries are kept once the cache listens for invalidations.
    assert app.extensions["commentsvc.read_cache"].subscribed.wait(5)
    flask_only.get(LISTING, query_string=THREAD)
    return app


@pytest.fixture
def access_lines(log_lines):
    """The access log lines written during the test."""
    return lambda: [
        line for line in log_lines() if line.get("logger") == "commentsvc.access"
    ]


def fast_and_flask(app):
    """A client through the fast path, one through Flask alone."""
    return Client(app.wsgi_app, Response), Client(app.wsgi_app.wsgi_app, Response)


def listing_latency_counts(app) -> dict[str, float]:
    """The listing's request count in /metrics, by status class."""
    text = app.test_client().get("/metrics").get_data(as_text=True)
    counts = {}
    for family in text_string_to_metric_families(text):
        if family.name != LATENCY:
            continue
        for sample in family.samples:
            if (
                sample.name == f"{LATENCY}_count"
                and sample.labels["endpoint"] == "api.list_comments"
            ):
                counts[sample.labels["status"]] = sample.value
    return counts


@pytest.mark.parametrize("conditional", [False, True], ids=["200", "304"])
def test_the_fast_path_is_counted_and_logged_like_flask(
    cached_app, access_lines, conditional
):
    fast, flask_only = fast_and_flask(cached_app)
    etag = flask_only.get(LISTING, query_string=THREAD).headers["ETag"]
    headers = {"If-None-Match": etag} if conditional else {}
    status_class = "3xx" if conditional else "2xx"
    before = listing_latency_counts(cached_app)
    served = cached_app.wsgi_app.served

    answers = [
        client.get(
            LISTING, query_string=THREAD, headers={**headers, "X-Request-ID": name}
        )
        for client, name in ((fast, "fast-path"), (flask_only, "flask-view"))
    ]

    assert cached_app.wsgi_app.served == served + 1
    assert {a.status_code for a in answers} == {304 if conditional else 200}
    after = listing_latency_counts(cached_app)
    assert after[status_class] == before.get(status_class, 0) + 2
    lines = {line.get("request_id"): line for line in access_lines()}
    fast_line, flask_line = lines["fast-path"], lines["flask-view"]
    for line in (fast_line, flask_line):
        assert line["duration_ms"] >= 0
        del line["ts"], line["duration_ms"], line["request_id"]
    assert fast_line == flask_line
    assert fast_line["status"] == (304 if conditional else 200)
    assert fast_line["endpoint"] == "api.list_comments"


def test_if_none_match_star_is_answered_304_by_the_fast_path(cached_app):
    """RFC 9110: ``*`` matches any current representation, and the listing
    exists."""
    header = "*"
    fast, flask_only = fast_and_flask(cached_app)
    served = cached_app.wsgi_app.served

    fast_answer = fast.get(
        LISTING, query_string=THREAD, headers={"If-None-Match": header}
    )
    flask_answer = flask_only.get(
        LISTING, query_string=THREAD, headers={"If-None-Match": header}
    )

    assert cached_app.wsgi_app.served == served + 1
    assert fast_answer.status_code == flask_answer.status_code == 304
    assert fast_answer.data == b""
    assert fast_answer.headers["ETag"] == flask_answer.headers["ETag"]


def test_a_star_among_other_tags_is_read_as_flask_reads_it(cached_app):
    """Werkzeug honours ``*`` only alone: both paths give the same answer."""
    header = '"another-etag", *'
    fast, flask_only = fast_and_flask(cached_app)

    fast_answer = fast.get(
        LISTING, query_string=THREAD, headers={"If-None-Match": header}
    )
    flask_answer = flask_only.get(
        LISTING, query_string=THREAD, headers={"If-None-Match": header}
    )

    assert fast_answer.status_code == flask_answer.status_code
    assert fast_answer.data == flask_answer.data

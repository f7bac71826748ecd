"""Forged cursors: every field a cursor carries is bounded before it reaches
the database, so a cursor no page gave is a 422 on the field (the API's
envelope), never a 500, on SQLite and on PostgreSQL (issue 25). And pages keep
their place among comments with equal times, as whole-second imports have."""

import base64
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from factories import make_comment, make_site

from commentsvc.comments import listing
from commentsvc.extensions import db
from commentsvc.models import Comment

API = "/api/v1/sites/news/comments"
THREAD = {"thread": "/article"}
WHEN = "2026-01-02T03:04:05+00:00"


def forged(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.fixture
def paged(make_app):
    app = make_app(LISTING_PAGE_SIZE=3, LISTING_REPLIES=2)
    with app.app_context():
        site = make_site()
        root = make_comment(site).id
        for _ in range(3):
            make_comment(site, parent_id=root)
    return app, root


@pytest.mark.parametrize(
    "raw",
    [
        f"|{WHEN}|{2**31}",  # one past the integer column
        f"|{WHEN}|{2**63}",  # past any integer column
        f"|{WHEN}|{'9' * 150}",
        f"|{WHEN}|-1",
        f"{2**31}|{WHEN}|1",  # a replies cursor under a root past the column
        f"{2**63}|{WHEN}|1|n",
        "-5|" + WHEN + "|1",
        "|9999-12-31T23:59:59-14:00|1",  # past year 9999 once in UTC
        "|0001-01-01T00:00:00+14:00|1",  # before year 1 once in UTC
        "|2026-13-01T00:00:00+00:00|1",
        "|yesterday|1",
        f"|{WHEN}|\u0661\u0662",  # digits int() takes, but not ours
        f"|{WHEN}| 12",
        f"|{WHEN}|1_2",
        f"|{WHEN}|1|n|n",
    ],
)
def test_a_forged_cursor_is_422_with_the_envelope(paged, backend, raw):
    app, _ = paged
    response = app.test_client().get(
        API, query_string={**THREAD, "cursor": forged(raw)}
    )

    assert response.status_code == 422, response.data[:300]
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"cursor"}


def test_the_cursors_pages_give_still_work_at_the_bounds(paged):
    app, root = paged
    client = app.test_client()
    more = client.get(API, query_string=THREAD).get_json()["more_replies"][str(root)]
    assert client.get(API, query_string={**THREAD, "cursor": more}).status_code == 200
    # A replies cursor may start before every reply: at the epoch, id 0.
    start = listing.encode_cursor(root, listing._EPOCH, 0)
    assert client.get(API, query_string={**THREAD, "cursor": start}).status_code == 200
    # The highest id the column holds is a position, not an error.
    top = forged(f"|{WHEN}|{2**31 - 1}")
    assert client.get(API, query_string={**THREAD, "cursor": top}).status_code == 200
    # Imports may store any year: a page may end on one.
    for when in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"):
        edge = forged(f"|{when}|1")
        assert (
            client.get(API, query_string={**THREAD, "cursor": edge}).status_code == 200
        )


def _same_second(app, count: int) -> list[int]:
    """*count* top-level comments stored within one whole second (a WordPress
    import), ids in the order written."""
    with app.app_context():
        site = make_site()
        ids = [make_comment(site).id for _ in range(count)]
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id.in_(ids))
            .values(created_at=datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC))
        )
        db.session.commit()
    return ids


def _walk(client, sort: str) -> list[int]:
    seen, cursor = [], None
    while True:
        query = {"thread": "/article", "sort": sort}
        if cursor:
            query["cursor"] = cursor
        body = client.get(API, query_string=query).get_json()
        seen += [c["id"] for c in body["comments"]]
        cursor = body["next"]
        if not cursor:
            return seen


@pytest.mark.parametrize("sort", ["oldest", "newest"])
def test_comments_of_one_second_come_once_each_across_pages(make_app, sort):
    app = make_app(LISTING_PAGE_SIZE=3)
    ids = _same_second(app, 8)

    seen = _walk(app.test_client(), sort)

    # The id breaks the tie, in the order asked for: none lost, none twice.
    assert seen == (ids if sort == "oldest" else ids[::-1])

"""The listing's order: oldest first (default), newest first (``sort=newest``
or the site's ``default_sort``); cursors stay valid for their own order."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from factories import make_comment, make_site

from commentsvc import sites
from commentsvc.extensions import db
from commentsvc.models import Comment

API = "/api/v1/sites/news/comments"


@pytest.fixture
def paged(make_app):
    """Five top-level comments, an hour apart, and a reply to the oldest; two
    top-level comments a page; the read cache and the fast path on."""
    app = make_app(LISTING_PAGE_SIZE=2, READ_CACHE_TTL=60)
    with app.app_context():
        site = make_site()
        ids = [make_comment(site, author=f"A{n}").id for n in range(5)]
        reply = make_comment(site, parent_id=ids[0]).id
        start = db.session.get(Comment, ids[0]).created_at
        for n, ident in enumerate(ids):
            db.session.execute(
                sa.update(Comment)
                .where(Comment.id == ident)
                .values(created_at=start + timedelta(hours=n))
            )
        db.session.commit()
    return app, ids, reply


def _walk(client, sort=None):
    query = {"thread": "/article"}
    if sort:
        query["sort"] = sort
    seen, cursor = [], None
    while True:
        if cursor:
            query["cursor"] = cursor
        body = client.get(API, query_string=query).json
        seen += [c["id"] for c in body["comments"]]
        cursor = body["next"]
        if not cursor:
            return seen, body["sort"]


def test_newest_first_pages_through_every_comment_once(paged):
    app, ids, reply = paged
    client = app.test_client()
    assert _walk(client) == ([ids[0], reply, *ids[1:]], "oldest")
    # Replies stay under their comment, oldest first.
    assert _walk(client, "newest") == ([*ids[:0:-1], ids[0], reply], "newest")
    # Twice: the second walk is served from the cache (keyed by order too).
    assert _walk(client, "newest")[0] == _walk(client, "newest")[0]
    assert _walk(client, "oldest")[0] == [ids[0], reply, *ids[1:]]


def test_a_cursor_is_valid_for_its_own_order_only(paged):
    app, _, _ = paged
    client = app.test_client()
    newest = client.get(API + "?thread=/article&sort=newest").json["next"]
    oldest = client.get(API + "?thread=/article").json["next"]
    wrong = client.get(
        API, query_string={"thread": "/article", "cursor": newest, "sort": "oldest"}
    )
    assert wrong.status_code == 422
    assert "cursor" in wrong.json["error"]["fields"]
    # Without sort, a cursor keeps the order it was given in.
    after = client.get(API, query_string={"thread": "/article", "cursor": newest})
    assert after.json["sort"] == "newest"
    assert (
        client.get(
            API, query_string={"thread": "/article", "cursor": oldest, "sort": "oldest"}
        ).status_code
        == 200
    )
    bad = client.get(API + "?thread=/article&sort=best")
    assert bad.status_code == 422
    assert "sort" in bad.json["error"]["fields"]


def test_the_sites_default_sort_applies_without_a_choice(paged):
    app, ids, _ = paged
    client = app.test_client()
    assert client.get(API + "?thread=/article").json["comments"][0]["id"] == ids[0]
    with app.app_context():
        sites.update_site("news", default_sort="newest")
    body = client.get(API + "?thread=/article").json
    assert (body["sort"], body["config"]["default_sort"]) == ("newest", "newest")
    assert body["comments"][0]["id"] == ids[-1]
    assert client.get(API + "?thread=/article&sort=oldest").json["sort"] == "oldest"

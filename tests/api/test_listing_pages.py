"""Threads of any size: the listing comes a page at a time, by top-level comments
each with its replies, never over 256 KB, and following every cursor gives
every approved comment exactly once (issue 15, section 1)."""

import json

import pytest
import sqlalchemy as sa
from factories import get_site, make_comment, make_site

from commentsvc.comments import listing
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus

API = "/api/v1/sites/news/comments"
LISTING = API + "?thread=/article"


@pytest.fixture
def paged(make_app):
    """An app with small pages: 3 top-level comments, 2 replies under each."""
    app = make_app(LISTING_PAGE_SIZE=3, LISTING_REPLIES=2)
    with app.app_context():
        make_site(max_length=100_000)
    return app


def add(app, *, parent=None, status=CommentStatus.APPROVED, **fields) -> int:
    with app.app_context():
        parent_status = None
        if parent is not None:
            # A reply needs a published parent when posted.
            parent_row = db.session.get(Comment, parent)
            parent_status = parent_row.status
            parent_row.status = CommentStatus.APPROVED
            db.session.commit()
            fields["parent_id"] = parent
        comment = make_comment(get_site("news"), status=status, **fields)
        if parent_status not in (None, CommentStatus.APPROVED):
            db.session.get(Comment, parent).status = parent_status
            db.session.commit()
        return comment.id


def set_status(app, comment_id: int, status: CommentStatus) -> None:
    with app.app_context():
        db.session.get(Comment, comment_id).status = status
        db.session.commit()


def approved_ids(app, thread="/article") -> set[int]:
    with app.app_context():
        return set(
            db.session.scalars(
                sa.select(Comment.id).where(Comment.status == CommentStatus.APPROVED)
            )
        )


def read_every_page(client, path=LISTING, between=None) -> tuple[list[int], list]:
    """Follow ``next`` and every ``more_replies`` cursor; return the ids in the
    order served and the pages. *between* runs after each page."""
    ids, pages, cursors = [], [], [""]
    while cursors:
        cursor = cursors.pop(0)
        response = client.get(path + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.get_json()
        assert len(response.data) <= 256 * 1024
        page = response.get_json()
        pages.append(page)
        ids += [c["id"] for c in page["comments"]]
        cursors += list(page["more_replies"].values())
        if page["next"]:
            cursors.append(page["next"])
        if between:
            between()
    return ids, pages


def test_the_first_page_carries_top_level_comments_with_their_first_replies(paged):
    client = paged.test_client()
    tops = [add(paged, author=f"Top {n}") for n in range(5)]
    replies = [add(paged, parent=tops[0], author=f"Reply {n}") for n in range(3)]
    deeper = add(paged, parent=replies[0], author="Deeper")
    late = add(paged, parent=tops[1], author="Late reply")

    first = client.get(LISTING).get_json()

    assert first["count"] == 10  # every approved comment, all pages together
    # Three top-level comments; two replies under the first (any depth, oldest
    # first), and its other replies behind a cursor.
    assert [c["id"] for c in first["comments"]] == [
        tops[0],
        replies[0],
        replies[1],
        tops[1],
        late,
        tops[2],
    ]
    assert list(first["more_replies"]) == [str(tops[0])]
    assert first["next"]

    rest = client.get(
        LISTING + f"&cursor={first['more_replies'][str(tops[0])]}"
    ).get_json()
    assert [c["id"] for c in rest["comments"]] == [replies[2], deeper]
    assert rest["next"] is None and rest["more_replies"] == {}
    assert {c["parent_id"] for c in rest["comments"]} == {tops[0], replies[0]}

    second = client.get(LISTING + f"&cursor={first['next']}").get_json()
    assert [c["id"] for c in second["comments"]] == tops[3:]
    assert second["next"] is None
    assert second["count"] == 10


def test_every_page_in_turn_gives_every_approved_comment_exactly_once(paged):
    client = paged.test_client()
    tops = [add(paged) for _ in range(10)]
    for n, top in enumerate(tops):
        previous = top
        for _ in range(n % 5):
            previous = add(paged, parent=previous if n % 2 else top)
    held = add(paged, status=CommentStatus.PENDING)
    add(paged, thread="/elsewhere")

    ids, pages = read_every_page(client)

    assert len(ids) == len(set(ids))
    assert set(ids) == approved_ids(paged) - set(_other_thread(paged))
    assert held not in ids
    assert len(pages) > 4


def _other_thread(app) -> list[int]:
    from commentsvc.models import Thread

    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Comment.id)
                .join(Thread, Thread.id == Comment.thread_id)
                .where(Thread.key != "/article")
            )
        )


def test_comments_approved_between_pages_come_once_and_none_is_skipped(paged):
    client = paged.test_client()
    tops = [add(paged) for _ in range(7)]
    for top in tops[:4]:
        add(paged, parent=top)
        add(paged, parent=top)
        add(paged, parent=top)
    waiting = [add(paged, status=CommentStatus.PENDING) for _ in range(4)]
    at_start = approved_ids(paged)
    changes = iter(
        [
            # A held comment older than the cursor, one newer, new comments
            # and replies: approved while the reader is between pages.
            lambda: set_status(paged, waiting[0], CommentStatus.APPROVED),
            lambda: add(paged),
            lambda: add(paged, parent=tops[0]),
            lambda: set_status(paged, waiting[3], CommentStatus.APPROVED),
            lambda: add(paged, parent=tops[5]),
        ]
    )

    ids, _ = read_every_page(client, between=lambda: next(changes, lambda: None)())

    assert len(ids) == len(set(ids)), "a comment came twice"
    assert at_start <= set(ids), "a comment approved before the reading was skipped"


def test_a_top_level_comment_no_longer_published_keeps_its_replies_in_place(paged):
    client = paged.test_client()
    first = add(paged)
    gone = add(paged)
    reply = add(paged, parent=gone)
    last = add(paged)
    set_status(paged, gone, CommentStatus.REJECTED)

    page = client.get(LISTING).get_json()

    assert [c["id"] for c in page["comments"]] == [first, reply, last]
    assert page["comments"][1]["parent_id"] == gone


def test_no_page_is_over_256_kb_however_long_the_comments(make_app):
    app = make_app()
    with app.app_context():
        make_site(max_length=100_000)
    client = app.test_client()
    # Escaping makes each of these four times longer once formatted.
    big = [add(app, body="<>&" * 6000 + f" {n}") for n in range(30)]
    for top in big[:3]:
        for _ in range(12):
            add(app, parent=top, body="&" * 5000)

    ids, pages = read_every_page(client)

    assert sorted(ids) == sorted(approved_ids(app))
    assert max(len(json.dumps(p).encode()) for p in pages) <= 256 * 1024
    assert len(pages) > 3


def test_a_comment_too_long_once_formatted_is_refused_with_the_field(make_app, backend):
    app = make_app()
    with app.app_context():
        make_site(max_length=100_000, min_submit_seconds=0)
    from factories import comment_payload

    client = app.test_client()
    response = client.post(API, json=comment_payload(body="<" * 50_000))

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["body"].startswith(
        "This comment is too long once formatted"
    )
    assert approved_ids(app) == set()


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "x" * 300,
        listing.encode_cursor(None, listing._EPOCH, 1)[:-3] + "%%%",
        "ZmFrZXw=",  # "fake|"
    ],
)
def test_a_cursor_that_is_not_ours_is_422_on_the_field(paged, cursor):
    client = paged.test_client()
    add(paged)

    response = client.get(LISTING + f"&cursor={cursor}")

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert "cursor" in error["fields"]


def test_a_replies_cursor_of_another_thread_is_422(paged):
    client = paged.test_client()
    elsewhere = add(paged, thread="/elsewhere")
    for _ in range(3):
        add(paged, parent=elsewhere, thread="/elsewhere")
    cursor = client.get(API + "?thread=/elsewhere").get_json()["more_replies"][
        str(elsewhere)
    ]
    add(paged)

    response = client.get(LISTING + f"&cursor={cursor}")

    assert response.status_code == 422
    assert "cursor" in response.get_json()["error"]["fields"]

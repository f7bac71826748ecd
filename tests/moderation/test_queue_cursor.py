"""The queue's page links (``after``): a forged one is a 422 with a message,
never a 500, on both backends; and pages keep every comment among equal times
(issue 25)."""

import base64
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from factories import make_comment

from commentsvc.comments.queue import queue_page
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Moderator, Site

QUEUE = "/moderation/queue"
WHEN = "2026-01-02T03:04:05+00:00"


def forged(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("status", ["pending", "approved", "reported"])
@pytest.mark.parametrize(
    "raw",
    [
        f"{WHEN}|{2**31}",  # one past the integer column
        f"{WHEN}|{2**63}",
        f"{WHEN}|-1",
        "9999-12-31T23:59:59-14:00|1",  # past year 9999 once in UTC
        "tomorrow|1",
        f"{WHEN}|1|2",
    ],
)
def test_a_forged_page_link_is_422_with_a_message(app, mod_client, status, raw):
    with app.app_context():
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        make_comment(news, status=CommentStatus.PENDING)

    response = mod_client.get(
        QUEUE, query_string={"status": status, "after": forged(raw)}
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That page link is not valid" in html
    assert "Nothing here." in html


def test_a_page_link_at_the_bounds_is_a_page(app, mod_client):
    for raw in (f"{WHEN}|{2**31 - 1}", "0001-01-01T00:00:00+00:00|1"):
        response = mod_client.get(QUEUE, query_string={"after": forged(raw)})
        assert response.status_code == 200


@pytest.mark.parametrize(
    "status", [CommentStatus.PENDING, CommentStatus.APPROVED]
)  # oldest first, newest first
def test_queue_pages_keep_every_comment_of_one_second(app, two_sites, status):
    with app.app_context():
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        ids = [make_comment(news, status=status).id for _ in range(8)]
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id.in_(ids))
            .values(created_at=datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC))
        )
        db.session.commit()
        mod = db.session.scalar(sa.select(Moderator).where(Moderator.username == "mod"))
        seen, cursor = [], None
        while True:
            page = queue_page(mod, status, cursor=cursor, limit=3)
            seen += [c.id for c in page.comments]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == (ids if status == CommentStatus.PENDING else ids[::-1])

"""Concurrent first posts to a new thread, over real HTTP."""

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa
from factories import comment_payload, make_site

from commentsvc.extensions import db
from commentsvc.models import Comment, Thread

POSTERS = 20


def test_concurrent_first_posts_create_exactly_one_thread(app, live_server):
    with app.app_context():
        make_site()
    url = f"{live_server.url}/api/v1/sites/news/comments"
    start = threading.Barrier(POSTERS, timeout=10)

    def post(n: int) -> requests.Response:
        payload = comment_payload(
            thread="/breaking", url="https://news.example/breaking", body=f"#{n}"
        )
        start.wait()
        return requests.post(url, json=payload, timeout=30)

    with ThreadPoolExecutor(POSTERS) as pool:
        responses = list(pool.map(post, range(POSTERS)))

    assert [r.status_code for r in responses] == [202] * POSTERS, [
        r.text for r in responses if r.status_code != 202
    ]
    assert len({r.json()["id"] for r in responses}) == POSTERS
    with app.app_context():
        threads = db.session.scalars(sa.select(Thread)).all()
        assert [t.key for t in threads] == ["/breaking"]
        comments = db.session.scalars(sa.select(Comment)).all()
        assert len(comments) == POSTERS
        assert {c.thread_id for c in comments} == {threads[0].id}
        assert sorted(c.body for c in comments) == sorted(
            f"#{n}" for n in range(POSTERS)
        )

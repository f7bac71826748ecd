"""Limits that hold across processes, and a Redis that goes away and comes back.

The app runs in real gunicorn processes sharing the test's database and Redis
prefix; the Redis that is stopped is a redis-server the test started itself.
"""

import threading
import time

import pytest
import redis
import requests
import sqlalchemy as sa
from factories import comment_payload, make_site
from servers import Gunicorn, RedisServer, app_environment, wait_until
from tcpproxy import Blackhole
from timing import within

from commentsvc.extensions import db
from commentsvc.models import Comment

PATH = "/api/v1/sites/news/comments"


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Comment))


def _post_together(urls: list[str], per_url: int) -> list[int]:
    """Send per_url posts to each URL at once (released by one barrier)."""
    total = len(urls) * per_url
    barrier = threading.Barrier(total)
    statuses = []
    lock = threading.Lock()

    def send(url, n):
        session = requests.Session()
        barrier.wait()
        response = session.post(
            url + PATH, json=comment_payload(body=f"Comment {n}"), timeout=30
        )
        with lock:
            statuses.append(response.status_code)

    threads = [
        threading.Thread(target=send, args=(url, i * per_url + n))
        for i, url in enumerate(urls)
        for n in range(per_url)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.mark.parametrize("layout", ["two_gunicorn_workers", "two_servers"])
def test_forty_concurrent_posts_across_processes_admit_exactly_the_limit(
    make_app, layout
):
    app = make_app(RATELIMIT_POST="10/minute")
    with app.app_context():
        make_site()
    env = app_environment(app)
    if layout == "two_gunicorn_workers":
        with Gunicorn(env, workers=2, threads=20) as server:
            statuses = _post_together([server.url], 40)
    else:
        with Gunicorn(env, threads=20) as one, Gunicorn(env, threads=20) as two:
            statuses = _post_together([one.url, two.url], 20)
    assert len(statuses) == 40
    assert statuses.count(202) == 10
    assert statuses.count(429) == 30
    assert _stored(app) == 10


def _post(url, body="hello"):
    started = time.monotonic()
    response = requests.post(url + PATH, json=comment_payload(body=body), timeout=10)
    return response.status_code, time.monotonic() - started


def test_redis_stopped_mid_test_falls_back_then_recovers(make_app, live_server_for):
    with RedisServer() as own_redis:
        app = make_app(REDIS_URL=own_redis.url, RATELIMIT_POST="3/minute")
        with app.app_context():
            make_site()
        with live_server_for(app) as server:
            assert [_post(server.url)[0] for _ in range(2)] == [202, 202]
            client = redis.Redis.from_url(own_redis.url)
            assert list(client.scan_iter(match="*ratelimit*"))
            client.close()

            own_redis.stop()
            results = [_post(server.url, f"while down {n}") for n in range(4)]
            # Posting goes on, fast, under per-process limits of the same size.
            assert [status for status, _ in results] == [202, 202, 202, 429]
            assert max(elapsed for _, elapsed in results) < within(2.5)
            ready = requests.get(server.url + "/readyz", timeout=5)
            # Still ready: it serves without Redis; Redis is a warning.
            assert ready.status_code == 200
            assert "unreachable" in ready.json()["checks"]["redis"]
            assert "redis" in ready.json()["warnings"]
            assert ready.json()["rate_limiter"] == "in-process fallback"

            own_redis.start()  # same port, empty: it kept nothing

            def back_on_redis():
                requests.get(server.url + PATH + "?thread=/x", timeout=5)
                body = requests.get(server.url + "/readyz", timeout=5).json()
                return body["rate_limiter"] == "redis" and "warnings" not in body

            wait_until(back_on_redis, timeout=70, interval=0.5)
            statuses = [_post(server.url, f"after {n}")[0] for n in range(4)]
            assert statuses == [202, 202, 202, 429]
            client = redis.Redis.from_url(own_redis.url)
            assert list(client.scan_iter(match="*ratelimit*"))
            client.close()
    assert _stored(app) == 2 + 3 + 3


def test_a_hung_redis_neither_hangs_posts_nor_stops_them(make_app, live_server_for):
    with Blackhole() as hung:
        app = make_app(
            REDIS_URL=f"redis://127.0.0.1:{hung.port}/0", RATELIMIT_POST="2/minute"
        )
        with app.app_context():
            make_site()
        with live_server_for(app) as server:
            results = [_post(server.url, f"c{n}") for n in range(3)]
    assert [status for status, _ in results] == [202, 202, 429]
    assert max(elapsed for _, elapsed in results) < within(
        3, waits=app.config["REDIS_SOCKET_TIMEOUT"]
    )

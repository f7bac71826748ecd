"""Rebuilding a listing page is single-flight across processes: after an
invalidation, 16 readers arriving at once on two gunicorn workers cost one
database read, not one per reader (issue 15, section 1)."""

import concurrent.futures
import re
import threading
import time

import psycopg
import pytest
import requests
from conftest import BACKENDS
from factories import make_comment, make_site
from servers import Gunicorn, app_environment

LISTING = "/api/v1/sites/news/comments?thread=/article"
TOKEN = "a-metrics-token-for-the-flight-test-0123456789"


def _builds(server) -> dict[str, float]:
    text = requests.get(
        server.url + "/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    ).text
    return {
        outcome: float(value)
        for outcome, value in re.findall(
            r'^commentsvc_listing_builds_total\{outcome="(\w+)"\} (\S+)$', text, re.M
        )
    }


# PostgreSQL only: a table lock there keeps the rebuild in flight (SQLite's
# readers are never blocked by a writer).
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"])
def test_sixteen_concurrent_misses_on_two_processes_rebuild_once(
    make_app, backend, tmp_path
):
    app = make_app()
    with app.app_context():
        site = make_site()
        for n in range(30):
            make_comment(site, body=f"Comment {n}")
    env = app_environment(app)
    env.update(
        COMMENTSVC_READ_CACHE_TTL="60",
        COMMENTSVC_LISTING_REBUILD_WAIT="20",
        COMMENTSVC_METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
    )
    database_url = app.config["DATABASE_URL"].replace(
        "postgresql+psycopg", "postgresql"
    )

    with Gunicorn(env, workers=2, threads=16) as server:
        # The rebuild is held in flight by a lock on the comments table, so
        # that every reader arrives while it runs, however slow the machine.
        with psycopg.connect(database_url) as holder:
            holder.execute("LOCK TABLE comments IN ACCESS EXCLUSIVE MODE")
            start = threading.Barrier(16)

            def read(_):
                start.wait()
                return requests.get(server.url + LISTING, timeout=60)

            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                answers = pool.map(read, range(16))
                time.sleep(2)
                holder.rollback()  # the rebuild goes on
                answers = list(answers)

        assert [a.status_code for a in answers] == [200] * 16
        assert {a.content for a in answers} == {answers[0].content}
        assert answers[0].json()["count"] == 30
        builds = _builds(server)
        assert builds.get("built") == 1, builds
        assert builds.get("shared") == 15, builds

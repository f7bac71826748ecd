"""The moderation queue at scale: 1,000,000 comments (100,000 pending) on
PostgreSQL and on SQLite; the median and p99 time of the first queue page (a
full request: query, author history, template) and of one approve (the
conditional update, audit row and outbox rows in one transaction).

Targets: first page under 20 ms median, approve under 10 ms median.

    .venv/bin/python bench/moderation_queue.py [--rows 1000000] [--pending 100000]
        [--samples 200] [--backends postgresql,sqlite]
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench.scratch import BENCH_SECRET  # noqa: E402
from commentsvc import create_app  # noqa: E402
from commentsvc.comments.moderation import Target, moderate  # noqa: E402
from commentsvc.extensions import db  # noqa: E402
from commentsvc.models import CommentStatus, Moderator, Role  # noqa: E402
from commentsvc.moderation.accounts import create_moderator  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
SITES = 10
THREADS = 10_000
PASSWORD = "bench password"


def fill(app, rows: int, pending: int) -> None:
    """Insert sites, threads and comments in bulk (not through the API: we are
    measuring reads and decisions, not posting)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    statuses = ["approved"] * 80 + ["spam"] * 15 + ["rejected"] * 3 + ["deleted"] * 2
    rng = random.Random(7)
    with app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO sites (slug, name, allowed_origins, captcha_provider,"
                    " captcha_score_threshold, require_email, moderation_policy,"
                    " trusted_author_min_approved, max_length, max_links,"
                    " blocked_words, watch_words, min_submit_seconds, created_at)"
                    " VALUES "
                    + ",".join(
                        f"('site{i}', 'Site {i}', '[]', 'none', 0.5, false, 'hold_all',"
                        f" 1, 5000, 2, '', '', 3, '2025-01-01')"
                        for i in range(SITES)
                    )
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO threads (site_id, key, url, title, created_at) "
                    "VALUES (:site, :key, :url, :title, '2025-01-01')"
                ),
                [
                    {
                        "site": t % SITES + 1,
                        "key": f"/article/{t}",
                        "url": f"https://site{t % SITES}.example/article/{t}",
                        "title": f"Article {t}",
                    }
                    for t in range(THREADS)
                ],
            )
        pending_every = rows // pending
        batch = []

        def flush(conn):
            conn.execute(
                sa.text(
                    "INSERT INTO comments (site_id, thread_id, author, email, body,"
                    " body_html, status, ip, user_agent, signals, created_at, version)"
                    " VALUES (:site, :thread, :author, :email, :body, :html, :status,"
                    " :ip, 'bench', '{}', :created, 1)"
                ),
                batch,
            )
            batch.clear()

        with engine.begin() as conn:
            for n in range(rows):
                thread = rng.randrange(THREADS)
                status = "pending" if n % pending_every == 0 else rng.choice(statuses)
                batch.append(
                    {
                        "site": thread % SITES + 1,
                        "thread": thread + 1,
                        "author": f"Reader {n % 50_000}",
                        "email": f"reader{n % 50_000}@example.org",
                        "body": f"Comment number {n}, with some words in it.",
                        "html": f"<p>Comment number {n}, with some words in it.</p>",
                        "status": status,
                        "ip": f"10.{n % 200}.{(n // 200) % 250}.{n % 250}",
                        "created": start + timedelta(seconds=n * 30),
                    }
                )
                if len(batch) == 10_000:
                    flush(conn)
            if batch:
                flush(conn)
        # What autovacuum would have done on a live database: statistics, and the
        # visibility map that lets index-only scans skip the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("VACUUM ANALYZE"))
            else:
                conn.execute(sa.text("ANALYZE"))
        create_moderator("bench-admin", PASSWORD, role=Role.ADMIN)
        create_moderator("bench-mod", PASSWORD, site_slugs=["site3"])


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def login(app, username):
    import re

    client = app.test_client()
    page = client.get("/moderation/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/moderation/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
    )
    return client


def measure(app, samples: int) -> dict:
    results = {}
    for who in ("bench-admin", "bench-mod"):
        client = login(app, who)
        for _ in range(10):
            client.get("/moderation/queue")
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            response = client.get("/moderation/queue")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        results[f"first page ({who.split('-')[1]})"] = times
    with app.app_context():
        admin = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "bench-admin")
        )
        ids = db.session.execute(
            sa.select(sa.text("id, version"))
            .select_from(sa.text("comments"))
            .where(sa.text("status = 'pending'"))
            .limit(samples + 10)
        ).all()
        times = []
        for n, (ident, version) in enumerate(ids):
            started = time.perf_counter()
            decision = moderate(admin, [Target(ident, version)], CommentStatus.APPROVED)
            elapsed = (time.perf_counter() - started) * 1000
            assert decision.changed == [ident]
            if n >= 10:
                times.append(elapsed)
        results["approve one"] = times
    return results


def run(backend: str, args) -> dict:
    name = f"commentsvc_bench_{uuid.uuid4().hex[:8]}"
    tmp = tempfile.mkdtemp()
    if backend == "postgresql":
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": BENCH_SECRET,
            "DATABASE_URL": url,
            "REDIS_KEY_PREFIX": f"bench-{name}:",
            "RATELIMIT_ENABLED": False,
        }
    )
    try:
        with app.app_context():
            upgrade()
        started = time.perf_counter()
        fill(app, args.rows, args.pending)
        took = time.perf_counter() - started
        print(f"{backend}: filled {args.rows:,} comments in {took:.0f} s")
        return measure(app, args.samples)
    finally:
        with app.app_context():
            db.engine.dispose()
        if backend == "postgresql":
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    targets = {"approve one": 10.0}
    report = []
    for backend in args.backends.split(","):
        for what, times in run(backend, args).items():
            median = statistics.median(times)
            target = targets.get(what, 20.0)
            report.append((backend, what, median, percentile(times, 0.99), target))
    print(
        f"\n{'backend':<12}{'what':<26}{'median':>10}{'p99':>10}{'target':>9}{'median/target':>15}"
    )
    for backend, what, median, p99, target in report:
        print(
            f"{backend:<12}{what:<26}{median:>7.1f} ms{p99:>7.1f} ms"
            f"{target:>6.0f} ms{median / target:>15.2f}"
        )


if __name__ == "__main__":
    main()

"""A thread of 50,000 comments on PostgreSQL: what a viral story costs.

Measured against gunicorn (2 workers, 4 threads each, as the README runs it),
with the real Redis:

- the first page cold (a cache miss: built from the database) and warm (from
  the read cache), and its size;
- every page in turn, following ``next`` and each ``more_replies`` cursor: the
  comments read (each exactly once), the largest page, the time;
- requests/s of the warm first page against a bare Flask handler returning the
  same bytes from memory (wrk, in turns, in one run; target 0.8);
- 16 concurrent cold misses after a moderation decision: how many rebuilds
  they caused (target 1), read from the workers' metrics;
- the peak RSS of the gunicorn workers (target < 300 MB).

    apt-get install -y wrk   # once
    .venv/bin/python bench/huge_thread.py [--comments 50000] [--seconds 10]
"""

import argparse
import concurrent.futures
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.scratch import gunicorn, scratch_database  # noqa: E402

THREAD = "/2026/11/the-viral-story"
ORIGIN = "https://news.example"
SECRET = "bench-huge-thread-secret-key-of-at-least-32-bytes"
PORT_OURS, PORT_BARE = 18441, 18442
WORDS = [
    "the",
    "council",
    "vote",
    "budget",
    "housing",
    "transport",
    "river",
    "school",
    "election",
    "policy",
    "readers",
    "reporter",
    "evidence",
    "minister",
    "market",
    "weather",
    "season",
    "police",
    "court",
    "hospital",
    "energy",
    "prices",
    "village",
    "climate",
    "station",
    "library",
    "festival",
    "museum",
]


def _body(rng: random.Random, length: int) -> str:
    words = []
    size = 0
    while size < length:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    text = " ".join(words)
    return text[0].upper() + text[1:length] + "."


def make_app(env: dict):
    from commentsvc import create_app

    return create_app(
        {
            "SECRET_KEY": SECRET,
            "DATABASE_URL": env["COMMENTSVC_DATABASE_URL"],
            "REDIS_KEY_PREFIX": env["COMMENTSVC_REDIS_KEY_PREFIX"],
        }
    )


def seed(app, comments: int, body_length: int) -> None:
    """Migrate, then store one thread of *comments* approved comments: three in
    four top-level, the rest replies (to a top-level comment or to a reply)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from commentsvc import sites
    from commentsvc.comments.service import ClientInfo, Submission, submit_comment
    from commentsvc.extensions import db
    from commentsvc.models import Comment, CommentStatus

    rng = random.Random(50000)
    with app.app_context():
        upgrade()
        site = sites.create_site("bench", "Bench News", allowed_origins=[ORIGIN])
        first = submit_comment(
            site,
            Submission(thread=THREAD, url=ORIGIN + THREAD, author="Reader 0", body="0"),
            ClientInfo(ip="192.0.2.1"),
        )
        thread_id, site_id = first.thread_id, site.id
        db.session.execute(sa.delete(Comment).where(Comment.id == first.id))
        db.session.commit()
        has_root = "root_id" in Comment.__table__.c
        start = datetime(2026, 11, 1, tzinfo=UTC)
        table = Comment.__table__
        next_id = db.session.execute(sa.select(sa.func.max(Comment.id))).scalar() or 0
        tops: list[int] = []
        roots: dict[int, int] = {}
        batch = []
        for n in range(comments):
            next_id += 1
            parent = root = None
            if tops and n % 4 == 3:
                parent = rng.choice(tops[-50:])
                if rng.random() < 0.3:
                    replies = [c for c, r in roots.items() if r == parent][-5:]
                    parent = rng.choice(replies) if replies else parent
                root = roots.get(parent, parent)
                roots[next_id] = root
            else:
                tops.append(next_id)
            body = f"Comment {n}. " + _body(rng, body_length)
            row = {
                "id": next_id,
                "site_id": site_id,
                "thread_id": thread_id,
                "parent_id": parent,
                "author": f"Reader {n}",
                "body": body,
                "body_hash": None,
                "body_html": f"<p>{body}</p>",
                "status": CommentStatus.APPROVED,
                "ip": "192.0.2.1",
                "signals": {},
                "created_at": start + timedelta(seconds=n),
                "version": 1,
            }
            if has_root:
                row["root_id"] = root
            batch.append(row)
            if len(batch) == 2000:
                db.session.execute(sa.insert(table), batch)
                batch = []
        if batch:
            db.session.execute(sa.insert(table), batch)
        db.session.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('comments', 'id'), "
                "(SELECT max(id) FROM comments))"
            )
        )
        db.session.commit()
        db.session.execute(sa.text("ANALYZE comments"))
        db.session.commit()
        db.engine.dispose()


def decide(app) -> None:
    """A moderation decision on the thread (approve a new comment): every
    process drops its cached pages, as a moderator's click does."""
    import sqlalchemy as sa

    from commentsvc.comments import moderation
    from commentsvc.comments.service import ClientInfo, Submission, submit_comment
    from commentsvc.extensions import db
    from commentsvc.models import CommentStatus, Moderator, Role, Site
    from commentsvc.moderation.accounts import create_moderator

    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "bench"))
        admin = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        admin = admin or create_moderator("boss", "a long bench password", Role.ADMIN)
        comment = submit_comment(
            site,
            Submission(
                thread=THREAD,
                url=ORIGIN + THREAD,
                author="Late reader",
                body=f"Late comment {time.time()}",
            ),
            ClientInfo(ip="192.0.2.9"),
        )
        moderation.moderate(
            admin,
            [moderation.Target(comment.id, 1)],  # a new comment's first version
            CommentStatus.APPROVED,
        )
        db.engine.dispose()


def builds(base: str) -> float:
    text = requests.get(
        base + "/metrics", headers={"Authorization": f"Bearer {SECRET}"}, timeout=10
    ).text
    found = re.search(
        r'^commentsvc_listing_builds_total\{outcome="built"\} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else 0.0


def read_all(base: str, path: str) -> tuple[int, int, int, float]:
    """Follow every cursor: (comments, distinct ids, largest page, seconds)."""
    started = time.perf_counter()
    seen: list[int] = []
    largest = 0
    cursors = [None]
    session = requests.Session()
    while cursors:
        cursor = cursors.pop(0)
        url = base + path + (f"&cursor={cursor}" if cursor else "")
        answer = session.get(url, timeout=30)
        answer.raise_for_status()
        largest = max(largest, len(answer.content))
        page = answer.json()
        seen += [c["id"] for c in page["comments"]]
        cursors += list(page.get("more_replies", {}).values())
        if page["next"]:
            cursors.append(page["next"])
    return len(seen), len(set(seen)), largest, time.perf_counter() - started


def peak_rss_mb(master: int) -> float:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
    return max(peaks)


def wrk(url: str, seconds: int) -> float:
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError("errors during the run:\n" + out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--body-length", type=int, default=4000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    with scratch_database() as (database_url, prefix):
        metrics_dir = tempfile.mkdtemp()
        env = dict(
            os.environ,
            COMMENTSVC_SECRET_KEY=SECRET,
            COMMENTSVC_DATABASE_URL=database_url,
            COMMENTSVC_REDIS_KEY_PREFIX=prefix,
            COMMENTSVC_RATELIMIT_READ="100000000/minute",
            COMMENTSVC_RATELIMIT_POST="100000000/minute",
            COMMENTSVC_METRICS_TOKEN=SECRET,
            PROMETHEUS_MULTIPROC_DIR=metrics_dir,
        )
        app = make_app(env)
        started = time.perf_counter()
        seed(app, args.comments, args.body_length)
        seconds = time.perf_counter() - started
        print(f"seeded {args.comments:,} comments in {seconds:.0f} s")
        path = f"/api/v1/sites/bench/comments?thread={THREAD}"
        base = f"http://127.0.0.1:{PORT_OURS}"
        options = ("--threads", "4")
        with gunicorn("wsgi:app", PORT_OURS, env, *options) as server:
            started = time.perf_counter()
            first = requests.get(base + path, timeout=120)
            cold = time.perf_counter() - started
            first.raise_for_status()
            warm = []
            for _ in range(20):
                started = time.perf_counter()
                requests.get(base + path, timeout=30).raise_for_status()
                warm.append(time.perf_counter() - started)
            warm.sort()
            count = first.json()["count"]
            print(f"first page cold {cold * 1000:,.0f} ms", flush=True)
            read, distinct, largest, walk = read_all(base, path)
            print(f"read every page in {walk:.1f} s", flush=True)

            before = builds(base)
            decide(app)
            time.sleep(0.5)  # the invalidation reaches both workers

            def get(_):
                return requests.get(base + path, timeout=60).status_code

            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                statuses = list(pool.map(get, range(16)))
            rebuilds = builds(base) - before

            body_file = Path(tempfile.mkdtemp()) / "body.json"
            body = requests.get(base + path, timeout=30).content
            body_file.write_bytes(body)
            bare_env = dict(env, BARE_BODY_FILE=str(body_file))
            with gunicorn("bench.bare_app:app", PORT_BARE, bare_env, ready_path=path):
                bare_url = f"http://127.0.0.1:{PORT_BARE}" + path
                rounds = {"bare": [], "ours": []}
                for _ in range(2):
                    rounds["bare"].append(wrk(bare_url, args.seconds))
                    rounds["ours"].append(wrk(base + path, args.seconds))
            rss = peak_rss_mb(server.pid)

    bare, ours = max(rounds["bare"]), max(rounds["ours"])
    checks = {
        "every comment read exactly once": read == distinct == count,
        "no page over 256 KB": largest <= 256 * 1024,
        "16 concurrent cold misses, one rebuild": rebuilds == 1
        and statuses == [200] * 16,
        "warm first page >= 0.8 of bare": ours / bare >= 0.8,
        "peak worker RSS < 300 MB": rss < 300,
    }
    print(f"thread: {count:,} approved comments on PostgreSQL")
    print(f"first page: {len(first.content):,} bytes")
    print(f"  cold (cache miss): {cold * 1000:,.0f} ms")
    print(f"  warm: median {warm[10] * 1000:.1f} ms, max {warm[-1] * 1000:.1f} ms")
    print(
        f"every page: {read:,} comments ({distinct:,} distinct), largest page "
        f"{largest:,} bytes, {walk:.1f} s"
    )
    print(
        f"16 concurrent cold misses: {rebuilds:.0f} rebuild(s), statuses "
        f"{sorted(set(statuses))}"
    )
    print(
        f"warm first page, wrk -t2 -c32: {ours:,.0f} req/s, bare {bare:,.0f} "
        f"req/s: {ours / bare:.2f}"
    )
    print(f"peak RSS of a gunicorn worker: {rss:.0f} MB")
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()

"""What the near-duplicate rules cost a post: the signature, the candidate
query and the insert of the signature and band keys (commentsvc/spam/neardup.py),
in the app process, on a site that already holds --comments comments with their
signatures (the corpora of bench/spam_learning.py, over and over, on 50
threads). Prints milliseconds per post, wall clock and this process's CPU.

    .venv/bin/python bench/neardup_cost.py [--comments 20000] [--posts 500]
        [--sqlite] [--explain]

Without --sqlite it uses a scratch PostgreSQL database (bench/scratch.py).
Then, side by side: whole posts through the API (Flask's test client, the
site's default settings, the learning filter's starter model), alternately
with the near-duplicate rules and without them (``check`` and ``remember``
replaced by nothing), so that the machine's load weighs on both alike.
"""

import argparse
import contextlib
import itertools
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from bench.spam_learning import ORIGIN, default_corpus  # noqa: E402
from commentsvc import create_app  # noqa: E402
from commentsvc.extensions import db  # noqa: E402
from commentsvc.models import Comment, CommentStatus, Site, Thread, utcnow  # noqa: E402
from commentsvc.spam import neardup, rules  # noqa: E402
from commentsvc.spam.verdict import Verdict  # noqa: E402


@contextlib.contextmanager
def database(sqlite: bool):
    if sqlite:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/cost.sqlite3", "neardup-cost:"
    else:
        with scratch_database() as (url, prefix):
            yield url, prefix


def fill(site: Site, bodies: list[str], count: int) -> None:
    """*count* comments (a fifth decided as spam) with their signatures."""
    threads = []
    for n in range(50):
        thread = Thread(site_id=site.id, key=f"/t{n}", url=f"https://x.example/t{n}")
        db.session.add(thread)
        threads.append(thread)
    db.session.flush()
    insert = sa.insert(Comment.__table__).returning(Comment.__table__.c.id)
    for n, body in zip(range(count), itertools.cycle(bodies), strict=False):
        decided = CommentStatus.SPAM if n % 5 == 0 else None
        comment_id = db.session.execute(
            insert,
            {
                "site_id": site.id,
                "thread_id": threads[n % 50].id,
                "author": "A reader",
                "body": body,
                "body_html": body,
                "status": decided or CommentStatus.PENDING,
                "decided_status": decided,
                "signals": {},
                "created_at": utcnow(),
                "version": 1,
            },
        ).scalar_one()
        neardup.remember(site.id, comment_id, neardup.sign(body))
        if n % 1000 == 999:
            db.session.commit()
    db.session.commit()


def explain(site, body: str) -> None:
    """The candidate query's plan, as the database ran it."""
    query = neardup._SHARED if site.share_spam_signals else neardup._LOCAL
    keys = neardup.sign(body).keys
    compiled = query.params(site_id=site.id, keys=keys).compile(
        dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    sqlite = db.engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ANALYZE "
    for line in db.session.execute(sa.text(prefix + str(compiled))).all():
        print("  ", *line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=20000)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--explain", action="store_true", help="show one plan")
    args = parser.parse_args()
    corpora = default_corpus()
    bodies = [row["body"] for rows in corpora.values() for row in rows]
    with database(args.sqlite) as (url, prefix):
        app = create_app(
            {
                "SECRET_KEY": "bench-neardup-cost-0123456789abcdef",
                "DATABASE_URL": url,
                "REDIS_KEY_PREFIX": prefix,
                "RATELIMIT_POST": "100000/minute",
                "RATELIMIT_POST_ALL_SITES": "100000/minute",
            }
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            site = Site(slug="news", name="News", allowed_origins=[])
            db.session.add(site)
            db.session.commit()
            started = time.perf_counter()
            fill(site, bodies, args.comments)
            took = time.perf_counter() - started
            print(f"filled {args.comments} comments in {took:.0f} s")
            if not args.sqlite:
                # As autovacuum would have by then: the planner knows the sizes.
                db.session.execute(sa.text("ANALYZE"))
                db.session.commit()
            # Posts see the site as sites.site_settings hands it out: a snapshot
            # (an ORM row would reload itself after every rollback here).
            site = SimpleNamespace(id=site.id, share_spam_signals=False)
            if args.explain:
                explain(site, bodies[1234] + " again")
            # Each post: its comment's row (not timed), then check and remember
            # (timed); a rollback keeps the table as it was.
            posts = [
                bodies[(n * 7919) % len(bodies)] + " again" for n in range(args.posts)
            ]
            thread_id = db.session.scalar(sa.select(sa.func.min(Thread.id)))
            row = {
                "site_id": site.id,
                "thread_id": thread_id,
                "author": "A reader",
                "body_html": "",
                "status": CommentStatus.PENDING,
                "signals": {},
                "version": 1,
            }
            insert = sa.insert(Comment.__table__).returning(Comment.__table__.c.id)
            spam = 0
            wall = cpu = 0.0
            parts = {"check": 0.0, "sign": 0.0, "remember": 0.0, "exact rule": 0.0}
            parts["SELECT 1"] = 0.0
            for n, body in enumerate(posts):
                comment_id = db.session.execute(
                    insert, {**row, "body": body, "created_at": utcnow()}
                ).scalar_one()
                w, c = time.perf_counter(), time.process_time()
                verdict = Verdict()
                signed = neardup.check(site, f"/t{n % 50}", body, verdict)
                parts["check"] += time.perf_counter() - w
                parts["remember"] -= time.perf_counter()
                neardup.remember(site.id, comment_id, signed)
                parts["remember"] += time.perf_counter()
                wall += time.perf_counter() - w
                cpu += time.process_time() - c
                parts["sign"] -= time.perf_counter()
                neardup.sign(body)
                parts["sign"] += time.perf_counter()
                # Side by side: the exact-duplicate rule every post runs already.
                parts["exact rule"] -= time.perf_counter()
                rules.check_duplicates(
                    site, body, "a@example.org", "192.0.2.1", f"/t{n % 50}", Verdict()
                )
                parts["exact rule"] += time.perf_counter()
                parts["SELECT 1"] -= time.perf_counter()
                db.session.connection().execute(sa.text("SELECT 1")).all()
                parts["SELECT 1"] += time.perf_counter()
                spam += verdict.is_spam
                db.session.rollback()
            signed_share = sum(neardup.sign(b) is not None for b in posts) / len(posts)
            print(
                f"{'SQLite' if args.sqlite else 'PostgreSQL'}: "
                f"{wall / len(posts) * 1000:.2f} ms per post (wall), "
                f"{cpu / len(posts) * 1000:.2f} ms CPU in the app process; "
                f"{signed_share:.0%} long enough to sign, {spam} of {len(posts)} spam"
            )
            each = {k: f"{v / len(posts) * 1000:.2f} ms" for k, v in parts.items()}
            print(
                f"  of which: check (sign + query) {each['check']}, sign "
                f"{each['sign']}, remember {each['remember']}; side by side, the "
                f"exact-duplicate rule: {each['exact rule']}, a SELECT 1: "
                f"{each['SELECT 1']}"
            )
            side_by_side(app, posts)
        with app.app_context():
            db.engine.dispose()


def side_by_side(app, bodies: list[str]) -> None:
    """Whole posts with and without the near-duplicate rules, alternately."""
    from commentsvc import sites

    with app.app_context():
        sites.create_site("api", "API", allowed_origins=[ORIGIN])
    client = app.test_client()
    real = (neardup.check, neardup.remember)
    took = {True: [], False: []}
    for n, body in enumerate(bodies):
        on = n % 2 == 0
        if not on:
            neardup.check = lambda *args: None
            neardup.remember = lambda *args: None
        try:
            started = time.perf_counter()
            response = client.post(
                "/api/v1/sites/api/comments",
                json={
                    "thread": f"/t{n % 50}",
                    "url": f"{ORIGIN}/t{n % 50}",
                    "author": f"Reader {n}",
                    "email": f"reader{n}@example.org",
                    "body": body,
                },
                headers={"Origin": ORIGIN},
                environ_base={"REMOTE_ADDR": f"10.{n // 250}.{n % 250}.1"},
            )
            took[on].append(time.perf_counter() - started)
        finally:
            neardup.check, neardup.remember = real
        assert response.status_code in (201, 202), response.get_data(as_text=True)
    with_rules = sorted(took[True])[len(took[True]) // 2] * 1000
    without = sorted(took[False])[len(took[False]) // 2] * 1000
    print(
        f"whole post through the API (median): {with_rules:.2f} ms with the "
        f"near-duplicate rules, {without:.2f} ms without: "
        f"{(with_rules - without) / with_rules:.0%} of a post"
    )


if __name__ == "__main__":
    main()

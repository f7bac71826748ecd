"""Load: readers post and read at high concurrency against gunicorn for 60 s;
PASS means every request was answered 200 or 202 (no 5xx, no errors) and no
comment was lost (rows stored = 202s answered, every 202's id in the database).

What runs, all on this machine:

- gunicorn (``--workers 2 --threads 16`` by default) serving the app on a
  scratch PostgreSQL database (created on the shared server, migrated, dropped
  at the end) and the real Redis under a key prefix of its own (its keys
  deleted at the end), limits on but raised so that the bench is not refused;
- the site on reCAPTCHA v3, verified over HTTP by the local captcha stand-in of
  the tests (tests/captcha_standin.py), which also hands out the tokens;
- load generators: ``--processes`` processes of ``--connections`` threads each,
  every thread with its own keep-alive connection, sending back to back a post
  (a share ``--post-share``; a fresh captcha token, a unique body, one of 200
  threads, from one of 5,000 client addresses given in X-Forwarded-For as a
  proxy would) or a read of one of 40 threads of 10 approved comments.

It prints requests by status, throughput, latency percentiles, the database
connections the app opened, and the checks, then PASS or FAIL (exit status 0 or
1).

    .venv/bin/python bench/load.py [--seconds 60] [--processes 2]
        [--connections 32] [--post-share 0.3] [--workers 2] [--threads 16]
        [--captcha-delay 0]  # seconds the stand-in takes to answer
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test]
        [--redis-url redis://127.0.0.1:6379/0]
"""

import argparse
import collections
import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import captcha_standin  # noqa: E402
import psycopg  # noqa: E402
import requests  # noqa: E402
from tcpproxy import free_port  # noqa: E402

from bench.scratch import gunicorn, scratch_database  # noqa: E402

ORIGIN = "https://news.example"
SITE = "bench"
READ_THREADS = [f"/read/{n}" for n in range(40)]
POST_THREADS = 200
CLIENTS = 5000
TOKENS_PER_FETCH = 200


# -- the captcha stand-in, extended to hand tokens to the load generators ------


def _standin_class():
    """tests/captcha_standin.py's CaptchaStandIn with
    ``POST /issue?n=N`` (N fresh reCAPTCHA v3 tokens), an optional delay before
    each verification answer, and Nagle's algorithm off."""

    class BenchStandIn(captcha_standin.CaptchaStandIn):
        delay: float = 0.0

        def __post_init__(self):
            super().__post_init__()
            # As real servers do: without it, the answer's body waits for the
            # ACK of its headers (Nagle), which the client delays by 40 ms.
            self.server.RequestHandlerClass.disable_nagle_algorithm = True

        def _handle(self, request):
            if request.path.startswith("/issue"):
                count = int(request.path.partition("n=")[2] or 1)
                tokens = [
                    self.issue("recaptcha_v3", hostname="news.example")
                    for _ in range(count)
                ]
                self._reply(request, 200, json.dumps(tokens).encode())
                return
            if self.delay:
                time.sleep(self.delay)
            super()._handle(request)

    return BenchStandIn, captcha_standin.SECRET


# -- the load generator (runs in its own processes) ----------------------------


class _Tokens:
    """Captcha tokens fetched from the stand-in in batches, shared by a
    process's threads."""

    def __init__(self, url: str):
        self.url = url
        self.lock = threading.Lock()
        self.pool: list[str] = []
        self.session = requests.Session()

    def take(self) -> str:
        with self.lock:
            if not self.pool:
                response = self.session.post(
                    f"{self.url}/issue?n={TOKENS_PER_FETCH}", timeout=10
                )
                response.raise_for_status()
                self.pool = response.json()
            return self.pool.pop()


def _client(index: int, seed: int, args: dict, start, results) -> None:
    """One connection's loop: post or read, back to back, until the end."""
    rng = random.Random(seed)
    session = requests.Session()
    url = args["base"] + f"/api/v1/sites/{SITE}/comments"
    tokens = args["tokens"]
    stats = {
        "status": collections.Counter(),
        "latency": {"post": [], "read": []},
        "accepted": [],
        "errors": collections.Counter(),
    }
    deadline = start + args["seconds"]
    n = 0
    while time.monotonic() < deadline:
        n += 1
        client = rng.randrange(CLIENTS)
        address = f"10.0.{client // 250}.{client % 250 + 1}"
        headers = {"Origin": ORIGIN, "X-Forwarded-For": address}
        if rng.random() < args["post_share"]:
            kind, method = "post", "POST"
            thread = f"/post/{rng.randrange(POST_THREADS)}"
            options = {
                "json": {
                    "thread": thread,
                    "url": ORIGIN + thread,
                    "title": "An article",
                    "author": f"Reader {args['worker']}-{index}-{n}",
                    "email": f"reader{rng.randrange(CLIENTS)}@example.org",
                    "body": f"Comment {args['worker']}-{index}-{n}: a reader's"
                    " considered thought about the article, in a sentence or two.",
                    "captcha_token": tokens.take(),
                }
            }
        else:
            kind, method = "read", "GET"
            options = {"params": {"thread": rng.choice(READ_THREADS)}}
        started = time.perf_counter()
        try:
            response = session.request(
                method, url, headers=headers, timeout=30, **options
            )
        except requests.RequestException as error:
            stats["errors"][f"{kind}: {type(error).__name__}"] += 1
            continue
        stats["latency"][kind].append(time.perf_counter() - started)
        stats["status"][(kind, response.status_code)] += 1
        if kind == "post" and response.status_code == 202:
            stats["accepted"].append(response.json()["id"])
    session.close()
    results.append(stats)


def generator(worker: int, args: dict, ready, go, queue) -> None:
    """A load-generator process: ``connections`` threads, then one summary."""
    args = dict(args, worker=worker, tokens=_Tokens(args["standin"]))
    results: list[dict] = []
    ready.set()
    go.wait()
    start = time.monotonic()
    threads = [
        threading.Thread(
            target=_client, args=(i, worker * 10_000 + i, args, start, results)
        )
        for i in range(args["connections"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


# -- setting up and tearing down -----------------------------------------------


def seed(settings: dict, secret: str) -> set[int]:
    """Migrate the scratch database, create the site and the threads readers
    read (10 approved comments each, stored through the service), then put the
    site on reCAPTCHA v3. Returns the seeded comments' ids."""
    from flask_migrate import upgrade

    from commentsvc import create_app, sites
    from commentsvc.comments.service import ClientInfo, Submission, submit_comment
    from commentsvc.extensions import db
    from commentsvc.models import Comment, CommentStatus

    app = create_app(dict(settings, TESTING=True, RATELIMIT_ENABLED=False))
    ids = set()
    with app.app_context():
        upgrade()
        site = sites.create_site(SITE, "Bench News", allowed_origins=[ORIGIN])
        for thread in READ_THREADS:
            for n in range(10):
                submission = Submission(
                    thread=thread,
                    url=ORIGIN + thread,
                    author=f"Seed {n}",
                    body=f"Seeded comment {n} on {thread}, approved to be read.",
                )
                comment = submit_comment(site, submission, ClientInfo(ip="192.0.2.1"))
                ids.add(comment.id)
        db.session.execute(
            db.update(Comment)
            .where(Comment.id.in_(ids))
            .values(status=CommentStatus.APPROVED)
        )
        db.session.commit()
        sites.update_site(
            SITE,
            captcha_provider="recaptcha_v3",
            captcha_site_key="bench-site-key",
            captcha_secret=secret,
        )
        db.engine.dispose()
    return ids


def database_sessions(admin_url: str, database: str) -> int:
    """How many connections to *database* the server has accepted so far."""
    with psycopg.connect(admin_url) as connection:
        return connection.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()[0]


def stored_since_seed(database_url: str, seeded: set[int]) -> tuple[set, int]:
    """The ids of the comments stored by the run, and how many comment.created
    events they have."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM comments")}
        events = connection.execute(
            "SELECT (payload->'data'->'comment'->>'id')::int FROM webhook_events"
            " WHERE type = 'comment.created'"
        ).fetchall()
    created = ids - seeded
    return created, sum(1 for (i,) in events if i in created)


# -- the run and the report ----------------------------------------------------


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    return (
        f"p50 {at(50):.1f} ms, p90 {at(90):.1f} ms, p99 {at(99):.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms"
    )


def run_load(args, base: str, standin_url: str) -> tuple[list[dict], float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    go = context.Event()
    readies = [context.Event() for _ in range(args.processes)]
    shared = {
        "base": base,
        "standin": standin_url,
        "seconds": args.seconds,
        "connections": args.connections,
        "post_share": args.post_share,
    }
    processes = [
        context.Process(target=generator, args=(n, shared, readies[n], go, queue))
        for n in range(args.processes)
    ]
    for process in processes:
        process.start()
    for ready in readies:
        ready.wait(60)
    started = time.monotonic()
    go.set()
    results = []
    for _ in processes:
        results.extend(queue.get(timeout=args.seconds + 120))
    elapsed = time.monotonic() - started
    for process in processes:
        process.join(30)
    return results, elapsed


def report(results, elapsed, created, events, log_text) -> bool:
    status = collections.Counter()
    errors = collections.Counter()
    latency = {"post": [], "read": []}
    accepted = []
    for stats in results:
        status.update(stats["status"])
        errors.update(stats["errors"])
        for kind in latency:
            latency[kind].extend(stats["latency"][kind])
        accepted.extend(stats["accepted"])
    total = sum(status.values())
    print(f"\n{total:,} requests in {elapsed:.1f} s: {total / elapsed:,.0f}/s")
    for (kind, code), count in sorted(status.items()):
        print(f"  {kind} {code}: {count:,}")
    for name, count in sorted(errors.items()):
        print(f"  no answer ({name}): {count:,}")
    for kind, values in latency.items():
        print(f"  {kind}s: {len(values) / elapsed:,.0f}/s, {percentiles(values)}")

    server_errors = sum(c for (_, code), c in status.items() if code >= 500)
    unexpected = sum(c for (_, code), c in status.items() if code not in (200, 202))
    missing = set(accepted) - created
    unanswered = created - set(accepted)
    logged_errors = sum(
        1 for line in log_text.splitlines() if '"level": "error"' in line
    )
    print(
        f"\ncomments: {len(accepted):,} answered 202, {len(created):,} stored, "
        f"{len(missing)} answered but missing, {len(unanswered)} stored but not "
        f"answered 202, {events:,} comment.created events"
    )
    print(
        f"5xx: {server_errors}; other than 200/202: {unexpected}; "
        f"no answer: {sum(errors.values())}; errors logged: {logged_errors}"
    )
    checks = {
        "zero 5xx": server_errors == 0,
        "every request answered 200 or 202": unexpected == 0 and not errors,
        "rows stored == 202s answered": len(created) == len(accepted),
        "every 202's id in the database": not missing,
        "no duplicate ids": len(set(accepted)) == len(accepted),
        "an event per comment": events == len(created),
    }
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}")
    passed = all(checks.values())
    print("\nPASS" if passed else "\nFAIL")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--post-share", type=float, default=0.3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--captcha-delay", type=float, default=0.0)
    parser.add_argument(
        "--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    standin_class, secret = _standin_class()
    standin = standin_class()
    standin.delay = args.captcha_delay
    settings = {
        "SECRET_KEY": f"load-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "REDIS_URL": args.redis_url,
        "RATELIMIT_POST": "10000000/minute",
        "RATELIMIT_READ": "10000000/minute",
        "RATELIMIT_CAPTCHA": "10000000/minute",
        # The generators stand for a proxy's clients: one hop is believed.
        "TRUSTED_PROXIES": "1",
        **standin.config(),
    }

    with (
        scratch_database(args.postgres_url, args.redis_url) as (database_url, prefix),
        tempfile.TemporaryDirectory() as tmp,
        standin,
    ):
        settings.update(DATABASE_URL=database_url, REDIS_KEY_PREFIX=prefix)
        env = dict(os.environ)
        env.update({f"COMMENTSVC_{k}": str(v) for k, v in settings.items()})
        database = database_url.rsplit("/", 1)[1]
        print(
            f"gunicorn {args.workers} workers x {args.threads} threads; "
            f"{args.processes} load processes x {args.connections} connections; "
            f"{args.post_share:.0%} posts; {args.seconds:g} s; database {database}"
        )
        seeded = seed(settings, secret)
        log = Path(tmp) / "gunicorn.log"
        port = free_port()
        options = ("--threads", str(args.threads))
        with gunicorn("wsgi:app", port, env, *options, workers=args.workers, log=log):
            standin_url = f"http://127.0.0.1:{standin.port}"
            sessions_before = database_sessions(args.postgres_url, database)
            results, elapsed = run_load(args, f"http://127.0.0.1:{port}", standin_url)
            sessions = database_sessions(args.postgres_url, database) - sessions_before
        print(f"database connections opened during the run: {sessions:,}")
        created, events = stored_since_seed(database_url, seeded)
        passed = report(results, elapsed, created, events, log.read_text())
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()

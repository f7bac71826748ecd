"""Deliveries per second of one webhook worker to a local receiver.

Queues N events for one endpoint (a receiver on 127.0.0.1 in this process that
answers 200 at once), then runs one real worker process, ``flask --app wsgi
webhooks worker --once``, which claims, signs, sends and records them all. The
rate is counted from the receiver's first request to the last (process start-up
excluded; the wall time with it is printed too), and compared with the target
of issue 7: 300 deliveries per second.

    .venv/bin/python bench/webhooks_throughput.py [--events 3000]
        [--batch-size 50] [--concurrency 10]
        [--database-url postgresql://postgres@127.0.0.1/scratch]  # wiped!
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench.scratch import BENCH_SECRET  # noqa: E402
from commentsvc import create_app, sites  # noqa: E402
from commentsvc.extensions import db  # noqa: E402
from commentsvc.models import DeliveryStatus, WebhookDelivery  # noqa: E402
from commentsvc.webhooks import endpoints  # noqa: E402
from commentsvc.webhooks.outbox import COMMENT_CREATED, record_event  # noqa: E402

TARGET = 300.0


class Receiver:
    """Counts requests and notes when the first and the last arrived."""

    def __init__(self):
        self.count = 0
        self.first = self.last = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # as real servers do

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.perf_counter()
                with receiver.lock:
                    receiver.count += 1
                    receiver.first = receiver.first or now
                    receiver.last = now
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def queue_events(app, url: str, count: int) -> None:
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        site = sites.create_site("bench", "Bench")
        endpoints.add_endpoint("bench", url)
        for n in range(count):
            record_event(
                site.id,
                COMMENT_CREATED,
                {
                    "comment": {"id": n, "author": "Bench", "body": "A comment."},
                    "thread": {"key": "/bench", "url": "https://news.example/b"},
                    "site": "bench",
                },
            )
        db.session.commit()


def delivered(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(WebhookDelivery.id)).where(
                WebhookDelivery.status == DeliveryStatus.SUCCEEDED
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        settings = {
            "SECRET_KEY": BENCH_SECRET,
            "DATABASE_URL": url,
            "REDIS_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}:",
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32",
            "WEBHOOK_BATCH_SIZE": str(args.batch_size),
            "WEBHOOK_CONCURRENCY": str(args.concurrency),
        }
        app = create_app({"TESTING": True, **settings})
        queue_events(app, receiver.url, args.events)
        env = dict(os.environ)
        env.update({f"COMMENTSVC_{k}": v for k, v in settings.items()})

        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "worker"]
            + ["--once"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"the worker failed:\n{done.stderr}")
        succeeded = delivered(app)
        with app.app_context():
            db.engine.dispose()

    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    sending = receiver.last - receiver.first
    rate = (receiver.count - 1) / sending if sending > 0 else float("inf")
    print(
        f"one worker, {backend}, batch {args.batch_size}, "
        f"{args.concurrency} concurrent sends"
    )
    print(f"{succeeded} of {args.events} delivered ({receiver.count} requests)")
    print(f"sending: {sending:.2f} s -> {rate:,.0f} deliveries/s")
    print(f"wall time with process start-up: {wall:.2f} s -> {succeeded / wall:,.0f}/s")
    print(f"target {TARGET:.0f}/s: {rate / TARGET:.2f}x the target")


if __name__ == "__main__":
    main()

"""What the rate limiter costs per request, measured side by side in one run.

Two apps on the same database and the same real Redis, one with limits on (the
limits raised so nothing is refused) and one with them off, take turns serving
the same requests in-process (no HTTP, so only the app's own work is timed):
the thread listing (GET) and a post (POST). Prints the median cost per request
and the ratio on/off.

    .venv/bin/python bench/ratelimit_cost.py [--rounds 20] [--per-round 200]
        [--database-url postgresql://postgres@127.0.0.1/test]
"""

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from bench.scratch import BENCH_SECRET  # noqa: E402
from commentsvc import create_app, sites  # noqa: E402
from commentsvc.extensions import db  # noqa: E402

PAYLOAD = {
    "thread": "/bench",
    "url": "https://news.example/bench",
    "author": "Bench",
    "body": "A comment for the benchmark.",
}


def build(database_url: str, prefix: str, enabled: bool):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": BENCH_SECRET,
            "DATABASE_URL": database_url,
            "REDIS_KEY_PREFIX": prefix,
            "RATELIMIT_ENABLED": enabled,
            "RATELIMIT_POST": "100000000/minute",
            "RATELIMIT_READ": "100000000/minute",
        }
    )


def time_requests(client, method: str, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        if method == "GET":
            response = client.get("/api/v1/sites/bench/comments?thread=/bench")
            assert response.status_code == 200
        else:
            response = client.post("/api/v1/sites/bench/comments", json=PAYLOAD)
            assert response.status_code == 202, response.json
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        on = build(url, prefix, True)
        off = build(url, prefix, False)
        with on.app_context():
            db.drop_all()
            upgrade()
            sites.create_site("bench", "Bench")
        results = {}
        for method in ("GET", "POST"):
            samples = {"on": [], "off": []}
            clients = {"on": on.test_client(), "off": off.test_client()}
            for client in clients.values():  # warm up
                time_requests(client, method, 20)
            for _ in range(args.rounds):
                for name in ("on", "off"):
                    per = args.per_round if method == "GET" else args.per_round // 4
                    samples[name].append(time_requests(clients[name], method, per))
            results[method] = {k: statistics.median(v) for k, v in samples.items()}
        with on.app_context():
            db.drop_all()
            db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
    client = redis.Redis()
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)

    print(f"database: {url.split('@')[-1]}")
    print(
        f"{'endpoint':<10}{'limits off':>14}{'limits on':>14}{'cost':>12}{'on/off':>9}"
    )
    for method, r in results.items():
        cost = r["on"] - r["off"]
        print(
            f"{method:<10}{r['off']:>11.0f} us{r['on']:>11.0f} us"
            f"{cost:>9.0f} us{r['on'] / r['off']:>9.2f}"
        )


if __name__ == "__main__":
    main()

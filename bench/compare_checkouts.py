"""A post and a listing cache miss, in process, on this checkout and on another
revision side by side in one run: CPU milliseconds per request (the process's
own CPU time, best of five rounds, so other work on the machine moves it
little), and the ratio. For a change's note: "no slower than main".

Each measurement runs in its own Python process with that checkout first on
``sys.path``: the Flask test client, a SQLite file, the real Redis (a key
prefix of its own, deleted after), no captcha, limits out of the way.

    .venv/bin/python bench/compare_checkouts.py [--ref main] [--quick]
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURE = r"""
import json, os, sys, tempfile, time, uuid
root, kind = sys.argv[1], sys.argv[2]
rounds, per_round = int(sys.argv[3]), int(sys.argv[4])
sys.path[:0] = [root, os.path.join(root, "tests")]
os.chdir(root)
import commentsvc
assert commentsvc.__file__.startswith(root), commentsvc.__file__
import redis
from flask_migrate import upgrade
from commentsvc import create_app
from conftest import base_config
from factories import ORIGIN, comment_payload, make_comment, make_site
path = tempfile.mktemp(suffix=".sqlite3")
prefix = f"bench-compare-{uuid.uuid4().hex[:8]}:"
config = base_config(f"sqlite:///{path}", REDIS_KEY_PREFIX=prefix)
app = create_app(config)
with app.app_context():
    upgrade()
    site = make_site()
    if kind == "read":
        for _ in range(200):
            make_comment(site)
client = app.test_client()
count = iter(range(10**9))
def post():
    n = next(count)
    body = f"Comment {n} on the article, {uuid.uuid4().hex}"
    response = client.post(
        "/api/v1/sites/news/comments", json=comment_payload(body=body),
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": f"10.{n // 250 % 250}.{n % 250 + 1}.1"},
    )
    assert response.status_code in (201, 202), response.status_code
def read():
    response = client.get("/api/v1/sites/news/comments?thread=/article")
    assert response.status_code == 200, response.status_code
step = post if kind == "post" else read
for _ in range(20):
    step()
best = float("inf")
for _ in range(rounds):
    started = time.process_time()
    for _ in range(per_round):
        step()
    best = min(best, (time.process_time() - started) / per_round * 1000)
client_redis = redis.Redis.from_url(config["REDIS_URL"])
keys = list(client_redis.scan_iter(match=f"*{prefix}*"))
if keys:
    client_redis.delete(*keys)
os.unlink(path)
print(json.dumps(best))
"""


def measure(checkout: Path, kind: str, rounds: int, per_round: int) -> float:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURE,
            str(checkout),
            kind,
            str(rounds),
            str(per_round),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="main", help="the revision to compare with")
    parser.add_argument("--quick", action="store_true", help="a few requests: it runs")
    args = parser.parse_args()
    rounds, per_round = (1, 5) if args.quick else (5, 200)
    with tempfile.TemporaryDirectory() as scratch:
        other = Path(scratch) / "other"
        subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "worktree",
                "add",
                "-q",
                "--detach",
                str(other),
                args.ref,
            ],
            check=True,
        )
        try:
            print(
                f"CPU ms per request, best of {rounds} x {per_round} (lower is better)"
            )
            print(f"{'':28}{args.ref:>12}{'this':>12}{'ratio':>8}")
            for kind, label in (
                ("post", "post (202, held)"),
                ("read", "listing miss, 200 comments"),
            ):
                # Alternate, so drift on the machine touches both alike.
                theirs = min(measure(other, kind, rounds, per_round) for _ in range(2))
                ours = min(measure(ROOT, kind, rounds, per_round) for _ in range(2))
                print(f"{label:28}{theirs:12.2f}{ours:12.2f}{ours / theirs:8.2f}")
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)],
                check=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

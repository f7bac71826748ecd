"""Reading a thread: the embed's GET of a 200-comment thread with replies,
requests/s of commentsvc against a bare Flask handler returning the same bytes
from memory, both under gunicorn with 2 workers, measured in turns in one run
with wrk. Also checks that a matching If-None-Match gets 304, and measures it.

Target: at least 0.8 of the bare handler.

    apt-get install -y wrk   # once
    .venv/bin/python bench/read_thread.py [--seconds 10] [--rounds 3]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
THREAD = "/2026/11/the-long-read"
ORIGIN = "https://news.example"


def seed(env: dict) -> None:
    """Migrate the scratch database and store a 200-comment thread, a quarter
    of them replies, all approved."""
    from flask_migrate import upgrade

    from commentsvc import create_app, sites
    from commentsvc.comments.service import ClientInfo, Submission, submit_comment
    from commentsvc.extensions import db
    from commentsvc.models import Comment, CommentStatus

    app = create_app(
        {
            "SECRET_KEY": env["COMMENTSVC_SECRET_KEY"],
            "DATABASE_URL": env["COMMENTSVC_DATABASE_URL"],
            "REDIS_KEY_PREFIX": env["COMMENTSVC_REDIS_KEY_PREFIX"],
        }
    )
    with app.app_context():
        upgrade()
        site = sites.create_site("bench", "Bench News", allowed_origins=[ORIGIN])
        ids = []
        for n in range(200):
            body = (
                f"Comment {n}: a considered paragraph about the article, long enough"
                " to look like a real reader's comment on a news site.\n\nAnd a"
                " second paragraph, with a link https://example.org/page."
            )
            comment = submit_comment(
                site,
                Submission(
                    thread=THREAD, url=ORIGIN + THREAD, author=f"Reader {n}", body=body
                ),
                ClientInfo(ip="192.0.2.1"),
            )
            if n % 4 == 3:
                comment.parent_id = ids[n - 1]
            ids.append(comment.id)
        db.session.execute(db.update(Comment).values(status=CommentStatus.APPROVED))
        db.session.commit()
        db.engine.dispose()


def gunicorn(app: str, port: int, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--workers", "2"]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/v1/sites/bench/comments?thread={THREAD}"
    for _ in range(200):
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def wrk(url: str, seconds: int, header: str | None = None) -> float:
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    if header:
        command += ["-H", header]
    run = subprocess.run(command + [url], capture_output=True, text=True, check=True)
    out = run.stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError("errors during the run:\n" + out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    name = f"commentsvc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    tmp = tempfile.mkdtemp()
    env = dict(
        os.environ,
        COMMENTSVC_SECRET_KEY="bench",
        COMMENTSVC_DATABASE_URL=ADMIN_URL.rsplit("/", 1)[0] + "/" + name,
        COMMENTSVC_REDIS_KEY_PREFIX=f"bench-{name}:",
        COMMENTSVC_RATELIMIT_READ="100000000/minute",
    )
    processes = []
    try:
        seed(env)
        ours = gunicorn("wsgi:app", 18431, env)
        processes.append(ours)
        path = f"/api/v1/sites/bench/comments?thread={THREAD}"
        url_ours = "http://127.0.0.1:18431" + path
        first = requests.get(url_ours, timeout=5)
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(first.content)
        etag = first.headers["ETag"]
        conditional = requests.get(url_ours, headers={"If-None-Match": etag}, timeout=5)
        assert conditional.status_code == 304, conditional.status_code
        bare = gunicorn(
            "bench.bare_app:app", 18432, dict(env, BARE_BODY_FILE=str(body_file))
        )
        processes.append(bare)
        url_bare = "http://127.0.0.1:18432" + path
        assert requests.get(url_bare, timeout=5).content == first.content

        results = {"commentsvc": [], "bare": [], "commentsvc 304": []}
        for _ in range(args.rounds):
            results["bare"].append(wrk(url_bare, args.seconds))
            results["commentsvc"].append(wrk(url_ours, args.seconds))
            results["commentsvc 304"].append(
                wrk(url_ours, args.seconds, f"If-None-Match: {etag}")
            )
        medians = {k: statistics.median(v) for k, v in results.items()}
        print(f"thread: 200 comments, {len(first.content):,} bytes of JSON")
        print(
            "wrk -t2 -c32, gunicorn 2 workers each, medians of", args.rounds, "rounds"
        )
        for name_, value in medians.items():
            print(f"  {name_:<16}{value:>10,.0f} requests/s  {results[name_]}")
        ratio = medians["commentsvc"] / medians["bare"]
        verdict = "PASS" if ratio >= 0.8 else "FAIL"
        print(f"commentsvc / bare: {ratio:.2f} (target 0.80) -> {verdict}")
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        import redis

        client = redis.Redis()
        for key in client.scan_iter(match=f"bench-{name}:*"):
            client.delete(key)


if __name__ == "__main__":
    main()

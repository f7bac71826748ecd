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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.scratch import BENCH_SECRET, gunicorn, scratch_database  # noqa: E402

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
            ids.append(comment.id)
        for n in range(3, 200, 4):  # a quarter are replies to the comment before
            db.session.execute(
                db.update(Comment)
                .where(Comment.id == ids[n])
                .values(parent_id=ids[n - 1])
            )
        db.session.execute(db.update(Comment).values(status=CommentStatus.APPROVED))
        db.session.commit()
        db.engine.dispose()


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

    with scratch_database() as (database_url, prefix):
        env = dict(
            os.environ,
            COMMENTSVC_SECRET_KEY=BENCH_SECRET,
            COMMENTSVC_DATABASE_URL=database_url,
            COMMENTSVC_REDIS_KEY_PREFIX=prefix,
            COMMENTSVC_RATELIMIT_READ="100000000/minute",
        )
        seed(env)
        path = f"/api/v1/sites/bench/comments?thread={THREAD}"
        with gunicorn("wsgi:app", 18431, env, ready_path=path):
            url_ours = "http://127.0.0.1:18431" + path
            first = requests.get(url_ours, timeout=5)
            body_file = Path(tempfile.mkdtemp()) / "body.json"
            body_file.write_bytes(first.content)
            etag = first.headers["ETag"]
            conditional = requests.get(
                url_ours, headers={"If-None-Match": etag}, timeout=5
            )
            assert conditional.status_code == 304, conditional.status_code
            bare_env = dict(env, BARE_BODY_FILE=str(body_file))
            with gunicorn("bench.bare_app:app", 18432, bare_env, ready_path=path):
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
    print("wrk -t2 -c32, gunicorn 2 workers each, medians of", args.rounds, "rounds")
    for name, value in medians.items():
        print(f"  {name:<16}{value:>10,.0f} requests/s  {results[name]}")
    ratio = medians["commentsvc"] / medians["bare"]
    verdict = "PASS" if ratio >= 0.8 else "FAIL"
    print(f"commentsvc / bare: {ratio:.2f} (target 0.80) -> {verdict}")


if __name__ == "__main__":
    main()

"""Posting: accepted posts/s and latency percentiles of POST /comments under
gunicorn (2 workers), with the real Redis limiter (limits raised for the bench),
a local captcha stand-in verifying every token over HTTP (reCAPTCHA v3), and
PostgreSQL. wrk drives it with a unique body and token per request.

Targets: 400 accepted posts/s or more, p99 under 50 ms.

    apt-get install -y wrk   # once
    .venv/bin/python bench/post_comments.py [--seconds 10] [--connections 16]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402
from captcha_standin import SECRET, CaptchaStandIn  # noqa: E402

from bench.scratch import gunicorn, scratch_database  # noqa: E402

ORIGIN = "https://news.example"
PORT = 18441

LUA = r"""
local counter = 0
local thread_id = 0
setup = function(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
request = function()
  counter = counter + 1
  local n = tid .. "-" .. counter
  local body = '{"thread":"/bench/' .. (counter % 50) .. '","url":"https://news.example/b",'
    .. '"author":"Reader ' .. n .. '","body":"Comment ' .. n
    .. ', a reader\'s considered thought about the article.",'
    .. '"captcha_token":"any-' .. n .. '-' .. math.random(1, 1000000000) .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Origin"] = "https://news.example"}, body)
end
"""


def seed(database_url: str, prefix: str) -> None:
    """Migrate the scratch database; add a site on reCAPTCHA v3 (the stand-in)."""
    from flask_migrate import upgrade

    from commentsvc import create_app, sites
    from commentsvc.extensions import db

    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url,
            "REDIS_KEY_PREFIX": prefix,
        }
    )
    with app.app_context():
        upgrade()
        sites.create_site(
            "bench",
            "Bench",
            allowed_origins=[ORIGIN],
            captcha_provider="recaptcha_v3",
            captcha_site_key="key",
            captcha_secret=SECRET,
        )
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(LUA)
    with (
        scratch_database() as (database_url, prefix),
        CaptchaStandIn(mode="any") as standin,
    ):
        env = dict(
            os.environ,
            COMMENTSVC_SECRET_KEY="bench",
            COMMENTSVC_DATABASE_URL=database_url,
            COMMENTSVC_REDIS_KEY_PREFIX=prefix,
            COMMENTSVC_RATELIMIT_POST="100000000/minute",
            COMMENTSVC_LOG_ACCESS="0",
            COMMENTSVC_CAPTCHA_RECAPTCHA_VERIFY_URL=standin.url("recaptcha"),
        )
        seed(database_url, prefix)
        # At most half of wrk's connections per worker, so both workers get work
        # (a gthread worker would take every keep-alive connection).
        half = str(max(1, args.connections // 2))
        options = ("--threads", "4", "--worker-connections", half)
        with gunicorn("wsgi:app", PORT, env, *options):
            url = f"http://127.0.0.1:{PORT}/api/v1/sites/bench/comments"
            run = subprocess.run(
                ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s"]
                + ["--latency", "-s", str(script), url],
                capture_output=True,
                text=True,
                check=True,
            )
        out = run.stdout
        with psycopg.connect(database_url) as conn:
            stored = conn.execute("SELECT count(*) FROM comments").fetchone()[0]
            statuses = dict(
                conn.execute(
                    "SELECT status, count(*) FROM comments GROUP BY status"
                ).fetchall()
            )

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    rate = stored / args.seconds
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    factor = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    p99_ms = float(p99.group(1)) * factor
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p50_ms = float(p50.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p50.group(2)]
    setup = f"wrk -t2 -c{args.connections} -d{args.seconds}s"
    print(f"{setup}, gunicorn 2 workers x 4 threads,")
    print("PostgreSQL, real Redis limiter, captcha verified over HTTP (v3 stand-in)")
    failed = errors.group(1) if errors else 0
    print(f"  requests sent: {requests_done:,}; non-2xx: {failed}")
    print(f"  comments stored: {stored:,} {statuses}")
    print(f"  accepted posts/s: {rate:,.0f}  (target 400: {rate / 400:.2f}x)")
    print(
        f"  latency p50 {p50_ms:.1f} ms, p99 {p99_ms:.1f} ms  (target p99 < 50 ms: "
        f"{'PASS' if p99_ms < 50 else 'FAIL'})"
    )


if __name__ == "__main__":
    main()

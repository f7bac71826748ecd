"""Posting: accepted posts/s and latency percentiles of POST /comments under
gunicorn (2 workers), with the real Redis limiter (limits raised for the bench),
a local captcha stand-in verifying every token over HTTP (reCAPTCHA v3), a
form token per post (as the embed sends), and PostgreSQL. wrk drives it with a
unique body, captcha token and form token per request. Baseline, measured in
the same run: a bare Flask handler in the same gunicorn set-up that reads the
same JSON and answers the same 202, storing nothing.

Targets: 400 accepted posts/s or more, p99 under 50 ms. Each round also posts
to a second site with the learning spam filter turned off, so the filter's
cost is measured side by side.

    apt-get install -y wrk   # once
    .venv/bin/python bench/post_comments.py [--seconds 10] [--rounds 3]
        [--connections 8] [--threads 2] [--webhook]
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
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402
from captcha_standin import SECRET, CaptchaStandIn  # noqa: E402

from bench.scratch import BENCH_SECRET, gunicorn, scratch_database  # noqa: E402

ORIGIN = "https://news.example"
PORT = 18441

LUA = r"""
-- Each wrk thread takes every Nth line of the form-token file, so no token is
-- sent twice (a reused one would make the comment spam).
local counter = 0
local thread_id = 0
local threads = {}
setup = function(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end
init = function(args)
  round = os.getenv("BENCH_ROUND")
  tokens = {}
  local n = 0
  for line in io.lines(os.getenv("BENCH_FORM_TOKENS")) do
    if n % 2 == tid then table.insert(tokens, line) end
    n = n + 1
  end
end
request = function()
  counter = counter + 1
  local n = round .. "-" .. tid .. "-" .. counter
  local body = '{"thread":"/bench/' .. (counter % 50) .. '","url":"https://news.example/b",'
    .. '"author":"Reader ' .. n .. '","body":"Comment ' .. n
    .. ', a reader\'s considered thought about the article.",'
    .. '"form_token":"' .. tokens[(counter - 1) % #tokens + 1] .. '",'
    .. '"captcha_token":"any-' .. n .. '-' .. math.random(1, 1000000000) .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Origin"] = "https://news.example"}, body)
end
"""
PATH = "/api/v1/sites/bench/comments"
OFF_PATH = "/api/v1/sites/bench-off/comments"


def seed(
    database_url: str,
    prefix: str,
    tokens: int,
    token_files: list,
    webhook=False,
    slug="bench",
    **settings,
) -> None:
    """Migrate the scratch database; add a site on reCAPTCHA v3 (the stand-in),
    with a webhook endpoint if *webhook*; write *tokens* form tokens to each of
    *token_files*, one per line."""
    from flask_migrate import upgrade

    from commentsvc import create_app, sites
    from commentsvc.extensions import db
    from commentsvc.spam import formtoken
    from commentsvc.webhooks import endpoints

    app = create_app(
        {
            "SECRET_KEY": BENCH_SECRET,
            "DATABASE_URL": database_url,
            "REDIS_KEY_PREFIX": prefix,
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32",
        }
    )
    with app.app_context():
        upgrade()
        site = sites.create_site(
            slug,
            slug,
            allowed_origins=[ORIGIN],
            captcha_provider="recaptcha_v3",
            captcha_site_key="key",
            captcha_secret=SECRET,
            # The tokens are minted just before the run: no minimum fill time.
            min_submit_seconds=0,
            **settings,
        )
        if webhook:
            # No worker runs: each post's delivery row waits in the outbox.
            endpoints.add_endpoint(slug, "http://127.0.0.1:9/hook")
        for token_file in token_files:
            token_file.write_text(
                "\n".join(formtoken.issue(site) for _ in range(tokens)) + "\n"
            )
        db.engine.dispose()


def run_wrk(url: str, args, script: Path, env: dict) -> dict:
    """One wrk run: requests, non-2xx, p50 and p99 in ms, requests/s."""
    run = subprocess.run(
        ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s"]
        + ["--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    out = run.stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "failed": int(errors.group(1)) if errors else 0,
        "p50": _ms(re.search(r"50%\s+([\d.]+)(us|ms|s)", out)),
        "p99": _ms(re.search(r"99%\s+([\d.]+)(us|ms|s)", out)),
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
    }


def _ms(match) -> float:
    return float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[match.group(2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="gunicorn threads per worker (see docs/benchmarks.md)",
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="give the site a webhook endpoint (a delivery row and a wake-up a post)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    workdir = Path(tempfile.mkdtemp())
    script = workdir / "post.lua"
    script.write_text(LUA)
    bare, ours, off = [], [], []
    with (
        scratch_database() as (database_url, prefix),
        CaptchaStandIn(mode="any") as standin,
    ):
        env = dict(
            os.environ,
            COMMENTSVC_SECRET_KEY=BENCH_SECRET,
            COMMENTSVC_DATABASE_URL=database_url,
            COMMENTSVC_REDIS_KEY_PREFIX=prefix,
            COMMENTSVC_RATELIMIT_POST="100000000/minute",
            COMMENTSVC_LOG_ACCESS="0",
            COMMENTSVC_CAPTCHA_RECAPTCHA_VERIFY_URL=standin.url("recaptcha"),
        )
        # Each form token is good for one comment: a file per round, with more
        # than a round can post.
        token_files = [workdir / f"form-tokens-{n}.txt" for n in range(args.rounds)]
        seed(database_url, prefix, 1000 * args.seconds, token_files, args.webhook)
        off_files = [workdir / f"off-tokens-{n}.txt" for n in range(args.rounds)]
        seed(
            database_url,
            prefix,
            1000 * args.seconds,
            off_files,
            args.webhook,
            slug="bench-off",
            spam_filter_enabled=False,
        )
        # At most half of wrk's connections per worker, so both workers get work
        # (a gthread worker would take every keep-alive connection).
        half = str(max(1, args.connections // 2))
        options = ("--threads", str(args.threads), "--worker-connections", half)
        with (
            gunicorn("bench.bare_app:app", PORT + 1, env, *options, ready_path=PATH),
            gunicorn("wsgi:app", PORT, env, *options),
            psycopg.connect(database_url, autocommit=True) as conn,
        ):
            for n, token_file in enumerate(token_files):
                wrk_env = dict(
                    os.environ, BENCH_FORM_TOKENS=str(token_file), BENCH_ROUND=str(n)
                )
                bare_url = f"http://127.0.0.1:{PORT + 1}{PATH}"
                bare.append(run_wrk(bare_url, args, script, wrk_env))
                before = _count(conn)
                run = run_wrk(f"http://127.0.0.1:{PORT}{PATH}", args, script, wrk_env)
                run["stored"] = _count(conn) - before
                run["posts"] = run["stored"] / args.seconds
                ours.append(run)
                # Its own round label: wrk's random numbers repeat from run to
                # run, and the stand-in refuses a captcha token used before.
                off_env = dict(
                    wrk_env, BENCH_FORM_TOKENS=str(off_files[n]), BENCH_ROUND=f"{n}off"
                )
                before = _count(conn)
                run = run_wrk(
                    f"http://127.0.0.1:{PORT}{OFF_PATH}", args, script, off_env
                )
                run["posts"] = (_count(conn) - before) / args.seconds
                off.append(run)
            statuses = dict(
                conn.execute(
                    "SELECT status, count(*) FROM comments GROUP BY status"
                ).fetchall()
            )
            signals = conn.execute(
                "SELECT count(*) FROM comments WHERE signals ? 'held'"
                " OR signals ? 'form_token_reused'"
            ).fetchone()[0]

    median = statistics.median
    rate, p99 = median(r["posts"] for r in ours), median(r["p99"] for r in ours)
    bare_rate = median(r["rate"] for r in bare)
    setup = f"wrk -t2 -c{args.connections} -d{args.seconds}s"
    print(f"{setup}, gunicorn 2 workers x {args.threads} threads each, in turns,")
    print("PostgreSQL, real Redis limiter, captcha verified over HTTP (v3 stand-in),")
    endpoint = ", a webhook endpoint" if args.webhook else ""
    print(f"a fresh form token per post{endpoint}; medians of {args.rounds} rounds")
    print(f"  bare Flask POST handler: {bare_rate:,.0f} requests/s")
    for n, run in enumerate(ours):
        print(
            f"  round {n + 1}: {run['posts']:,.0f} posts/s, p50 {run['p50']:.1f} ms,"
            f" p99 {run['p99']:.1f} ms; {run['requests']:,} sent, "
            f"{run['failed']} non-2xx, {run['stored']:,} stored"
        )
    for n, run in enumerate(off):
        print(
            f"  round {n + 1}, filter off: {run['posts']:,.0f} posts/s, p99 "
            f"{run['p99']:.1f} ms; {run['requests']:,} sent, {run['failed']} non-2xx"
        )
    off_rate = median(r["posts"] for r in off)
    print(
        f"  without the learning filter (site bench-off): {off_rate:,.0f} posts/s,"
        f" p99 {median(r['p99'] for r in off):.1f} ms; with it: "
        f"{rate / off_rate:.3f} of that"
    )
    print(f"  comments: {statuses}; held or form token reused: {signals}")
    print(
        f"  accepted posts/s: {rate:,.0f} = {rate / bare_rate:.3f} of the bare "
        f"handler  (target 400: {rate / 400:.2f}x {'PASS' if rate >= 400 else 'FAIL'})"
    )
    print(
        f"  latency p99: {p99:.1f} ms  (target < 50 ms: {p99 / 50:.2f}x "
        f"{'PASS' if p99 < 50 else 'FAIL'})"
    )


def _count(conn) -> int:
    return conn.execute("SELECT count(*) FROM comments").fetchone()[0]


if __name__ == "__main__":
    main()

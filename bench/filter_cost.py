"""The spam filter's share of a post's time (issue 26, item 5), side by side in
one run. Target: the whole filter under 15 % of a post's time.

1. CPU per accepted post through gunicorn (the server processes' own CPU time,
   read from /proc around each round), posting in turns to two sites that are
   alike — the same decisions taught, each with its trained model — but for
   the site setting ``spam_filter_enabled``: on against off. The share is
   (on − off) / on.
2. cProfile over posts to the site with the filter on, in process (Flask's test
   client): the share of the request's time spent in the spam protection's
   packages (FILTER_PACKAGES: the rules, the learning filter, and what else
   joins them), counted where it is entered from outside them, so nested
   calls count once; and the learning filter's part of it. The profiler slows
   Python more than NumPy, so read it beside the first figure.
3. What a moderator's decision pays for the filter: the trainers' wake-up.

    .venv/bin/python bench/filter_cost.py [--rounds 5] [--posts 200]
        [--decisions 500] [--quick]

Posts carry a form token the API handed out (aged past the minimum), a body
from the evaluation corpora (made unique) and an address of their own.
"""

import argparse
import contextlib
import cProfile
import io
import ipaddress
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench import eval_corpora  # noqa: E402
from bench.eval_http import FORM_TOKEN_SALT, ORIGIN, Reader, aged  # noqa: E402
from bench.scratch import free_port, gunicorn, scratch_database  # noqa: E402

SECRET = "bench-filter-cost-secret-key-0123456789abcdef"  # noqa: S105
TARGET = 0.15
# Where the spam protection's code lives (paths under the checkout): a post's
# time inside them is the filter's. Add a package here when one joins.
FILTER_PACKAGES = {
    "the learning filter": ("commentsvc/learning/",),
    "the spam protection (rules, learning filter, rejections)": (
        "commentsvc/spam/",
        "commentsvc/learning/",
        "commentsvc/rejections/",
    ),
}
FIRST_IP = ipaddress.ip_address("198.18.0.1")
SITES = {"on": True, "off": False}
LIMITS = {
    "RATELIMIT_POST": "100000000/minute",
    "RATELIMIT_POST_ALL_SITES": "100000000/minute",
    "RATELIMIT_CAPTCHA": "100000000/minute",
    "TRUSTED_PROXIES": 1,
    "LOG_ACCESS": False,
}


def make_app(database_url: str, prefix: str):
    from commentsvc import create_app

    return create_app(
        {
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            "REDIS_KEY_PREFIX": prefix,
            **LIMITS,
        }
    )


def seed(app, rows: list[dict]) -> dict[str, int]:
    """Migrate; create the two sites; teach each the same decisions on *rows*
    (posted through the app, decided by label) and train its model."""
    from flask_migrate import upgrade

    from commentsvc import sites
    from commentsvc.comments.moderation import Target, moderate
    from commentsvc.extensions import db
    from commentsvc.learning.trainer import retrain
    from commentsvc.models import Comment, CommentStatus, Role
    from commentsvc.moderation.accounts import create_moderator

    ids = {}
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):
            upgrade()
        moderator = create_moderator(
            "bench-cost", "bench password 123", role=Role.ADMIN
        )
        client = app.test_client()
        for slug, enabled in SITES.items():
            site = sites.create_site(
                slug, slug, allowed_origins=[ORIGIN], spam_filter_enabled=enabled
            )
            ids[slug] = site.id
            for n, row in enumerate(rows):
                response = client.post(
                    f"/api/v1/sites/{slug}/comments",
                    json=payload(n, row, None),
                    headers={"Origin": ORIGIN},
                    environ_base={"REMOTE_ADDR": str(FIRST_IP + 10**5 + n)},
                )
                comment = db.session.get(Comment, response.get_json()["id"])
                to = CommentStatus.SPAM if row["spam"] else CommentStatus.APPROVED
                moderate(moderator, [Target(comment.id, comment.version)], to)
            retrain(site.id)
    return ids


def payload(n: int, row: dict, token: str | None) -> dict:
    story = f"/2026/12/story-{n % 12}"
    body = f"{row['body'][:4900] or 'Nothing to add'} ({n})"
    data = {
        "thread": story,
        "url": ORIGIN + story,
        "title": f"Story {n % 12}",
        "author": (row["author"] or f"Reader {n}")[:100],
        "email": f"cost{n}@example.org",
        "body": body,
    }
    if token:
        data["form_token"] = token
    return data


def server_cpu(master: int) -> float:
    """CPU seconds (user + system) of gunicorn's master and workers so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == master or ppid == master:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def post_round(reader, server, slug: str, batch: list) -> tuple[float, list[float]]:
    """Post *batch* (``(n, ip, payload)``) to *slug*: the server's CPU ms per
    post and each post's wall time (ms)."""
    walls = []
    before = server_cpu(server.pid)
    for n, ip, data in batch:
        started = time.perf_counter()
        response = reader.session.post(
            f"{reader.base}/api/v1/sites/{slug}/comments",
            json=data,
            headers={"Origin": ORIGIN, "X-Forwarded-For": ip},
            timeout=30,
        )
        walls.append((time.perf_counter() - started) * 1000)
        if response.status_code != 202:
            raise RuntimeError(
                f"post {n}: {response.status_code} {response.text[:200]}"
            )
    return (server_cpu(server.pid) - before) * 1000 / len(batch), walls


def prepare(reader, slug: str, rows: list[dict], start: int, count: int) -> list:
    """Posts ready to send (their form tokens fetched now, not while timed)."""
    batch = []
    for n in range(start, start + count):
        ip = str(FIRST_IP + n)
        token = reader.form_token(slug, ip)
        batch.append((n, ip, payload(n, rows[n % len(rows)], token)))
    return batch


def in_package(filename: str, prefixes: tuple) -> bool:
    path = filename.replace(os.sep, "/")
    return any(f"/{prefix}" in path or path.startswith(prefix) for prefix in prefixes)


def entered(stats: pstats.Stats, prefixes: tuple) -> dict[str, float]:
    """Seconds spent in functions of *prefixes*, by function, counted where
    code outside them called in (so a call inside them is not counted twice)."""
    spent = {}
    for (filename, line, name), (_, _, _, _, callers) in stats.stats.items():
        if not in_package(filename, prefixes):
            continue
        where = filename.replace(os.sep, "/").rsplit("commentsvc/", 1)[-1]
        for (caller_file, _, _), (_, _, _, cumulative) in callers.items():
            # A built-in caller ("~": sum() draining a generator, map()…) was
            # called by the package's own code, nearly always: not an entry.
            if caller_file != "~" and not in_package(caller_file, prefixes):
                key = f"{where}:{line} {name}"
                spent[key] = spent.get(key, 0.0) + cumulative
    return spent


def profile_shares(app, rows: list[dict], start: int, count: int, timer) -> dict:
    """cProfile over *count* posts to the "on" site through the test client:
    each FILTER_PACKAGES entry's share of the request's time, and the five
    functions through which most of it was entered."""
    from itsdangerous import URLSafeSerializer

    serializer = URLSafeSerializer(SECRET, salt=FORM_TOKEN_SALT)
    client = app.test_client()
    batch = []
    for n in range(start, start + count):
        ip = str(FIRST_IP + n)
        answer = client.post(
            "/api/v1/sites/on/form-token",
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": ip},
        ).get_json()
        batch.append((n, ip, payload(n, rows[n % len(rows)], aged(serializer, answer))))
    profiler = cProfile.Profile(timer)
    for n, ip, data in batch:
        profiler.enable()
        response = client.post(
            "/api/v1/sites/on/comments",
            json=data,
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": ip},
        )
        profiler.disable()
        if response.status_code != 202:
            raise RuntimeError(f"post {n}: {response.status_code}")
    stats = pstats.Stats(profiler)
    request = sum(
        cumulative
        for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items()
        if name == "wsgi_app" and filename.replace(os.sep, "/").endswith("flask/app.py")
    )
    shares = {}
    for label, prefixes in FILTER_PACKAGES.items():
        spent = entered(stats, prefixes)
        top = sorted(spent.items(), key=lambda item: -item[1])[:5]
        shares[label] = {
            "share": sum(spent.values()) / request,
            "entries": [(name, seconds / request) for name, seconds in top],
        }
    return shares


def wake_up_ms(app, site_id: int, times: int) -> float:
    """Median ms of what a decision pays for the filter after its commit:
    ``learning.decisions_made`` (one Redis PUBLISH)."""
    from commentsvc import learning

    spent = []
    with app.app_context():
        for _ in range(times):
            started = time.perf_counter()
            learning.decisions_made({site_id})
            spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def verdict(share: float) -> str:
    return (
        f"{share:6.1%} (target < {TARGET:.0%}: {'PASS' if share < TARGET else 'FAIL'})"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="turns per site")
    parser.add_argument("--posts", type=int, default=200, help="posts per turn")
    parser.add_argument("--decisions", type=int, default=500, help="taught first")
    parser.add_argument(
        "--profile-clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="cProfile's clock: the process's CPU time (as 1.), or wall time "
        "(waits on the database and Redis too, charged to whatever statement "
        "waited, e.g. the transaction's first)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.posts, args.decisions = 1, 20, 20
    if min(args.rounds, args.posts, args.decisions) < 1:
        parser.error("--rounds, --posts and --decisions must be at least 1")
    sources, _ = eval_corpora.default_sources()
    rows = eval_corpora.interleave(sources, 10**6, seed=7)
    taught, posted = rows[: args.decisions], rows[args.decisions :] or rows
    started = time.monotonic()
    with scratch_database() as (database_url, prefix):
        env = dict(
            os.environ,
            COMMENTSVC_SECRET_KEY=SECRET,
            COMMENTSVC_DATABASE_URL=database_url,
            COMMENTSVC_REDIS_KEY_PREFIX=prefix,
            COMMENTSVC_LOG_ACCESS="0",
            **{
                f"COMMENTSVC_{k}": str(v)
                for k, v in LIMITS.items()
                if k != "LOG_ACCESS"
            },
        )
        app = make_app(database_url, prefix)
        ids = seed(app, taught)
        port = free_port()
        reader = Reader(f"http://127.0.0.1:{port}", SECRET)
        cpu = {slug: [] for slug in SITES}
        walls = {slug: [] for slug in SITES}
        with (
            gunicorn("wsgi:app", port, env, "--threads", "4") as server,
            contextlib.closing(reader),
        ):
            n = 0
            for slug in SITES:  # warm up: models loaded, templates compiled
                post_round(reader, server, slug, prepare(reader, slug, posted, n, 10))
                n += 10
            for _ in range(args.rounds):
                for slug in SITES:  # in turns: drift on the machine touches both
                    batch = prepare(reader, slug, posted, n, args.posts)
                    n += args.posts
                    ms, wall = post_round(reader, server, slug, batch)
                    cpu[slug].append(ms)
                    walls[slug] += wall
        clock = time.process_time if args.profile_clock == "cpu" else time.perf_counter
        shares = profile_shares(app, posted, n, args.posts, clock)
        wake = wake_up_ms(app, ids["on"], 50 if args.quick else 500)
    seconds = time.monotonic() - started

    on, off = (statistics.median(cpu[s]) for s in SITES)
    print(
        f"gunicorn (2 workers x 4 threads), PostgreSQL, Redis; two sites taught "
        f"the same {len(taught)} decisions, each with its trained model; "
        f"{args.rounds} turn(s) of {args.posts} posts each"
    )
    if args.quick:
        print("--quick: a smoke run, too few posts for the figures to mean much")
    print("\n1. Server CPU per accepted post (median of the turns), learning filter")
    print(f"   on  {on:7.2f} ms   (turns: {', '.join(f'{v:.2f}' for v in cpu['on'])})")
    print(
        f"   off {off:7.2f} ms   (turns: {', '.join(f'{v:.2f}' for v in cpu['off'])})"
    )
    print(f"   the learning filter's share of a post: {verdict((on - off) / on)}")
    wall_on, wall_off = (statistics.median(walls[s]) for s in SITES)
    print(f"   wall ms per post, median: on {wall_on:.1f}, off {wall_off:.1f}")
    print(
        f"\n2. cProfile ({args.profile_clock} clock), in process: share of a "
        "post's time (the filter on)"
    )
    for label, found in shares.items():
        print(f"   {label}: {verdict(found['share'])}")
        for name, share in found["entries"]:
            print(f"     {share:6.1%}  {name}")
    print(
        f"\n3. What a decision pays for the filter after its commit (the "
        f"trainers' wake-up): {wake:.3f} ms median"
    )
    print(f"\ntook {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

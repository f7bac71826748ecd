"""The learning spam filter evaluated as a new site lives it (issue 26, item 4).

Labelled corpora are replayed one comment at a time through the HTTP API of a
running app (gunicorn, a scratch PostgreSQL database, Redis): each comment from
its own IP and e-mail, with the form token the API hands out made older than
the site's minimum. Right after each is stored, a moderator decides it in the
queue by its label — logged in through /moderation/login, pressing the
comment card's own button in place (POST /moderation/decide with htmx's
header): a real comment is approved (rescued from the Spam tab if it was
stored there); spam in Pending is marked spam; spam already stored as spam is
confirmed (the Spam tab's "Confirm spam") with --confirm-spam (the default) or
left alone with --no-confirm-spam. The trainer runs as its own process, as
docs/production.md runs it (``flask --app wsgi spam worker``); every
--sync-every decisions the replay waits until it has learned them (a
moderator is slower than the trainer). Before that, a second site whose
moderator decides nothing — the starter alone — gets the same first comments.

Prints, per source and overall, for the comments after the first 500
decisions, the four figures against the issue's targets; the learning curve
per 100 comments; and the real comments the filter flagged in the site's first
50 decisions against the starter alone.

    .venv/bin/python bench/filter_eval.py [--corpus NAME=FILE ...] [--limit N]
        [--seed S] [--no-confirm-spam] [--json OUT] [--quick]

The default corpora are the table at the top of bench/eval_corpora.py (plus
files data/spam/README.md gives an evaluation role). The corpora reserved for
independent evaluation are never part of it: pass one with --corpus.
"""

import argparse
import contextlib
import io
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import eval_corpora, eval_figures  # noqa: E402
from bench.eval_http import ORIGIN, BenchError, Moderator, Reader, email_of  # noqa: E402
from bench.eval_trainer import (  # noqa: E402
    spam_worker,
    trained,
    wait_for_training,
    wait_for_worker,
)
from bench.scratch import free_port, gunicorn, scratch_database  # noqa: E402

SECRET = "bench-filter-eval-secret-key-0123456789abcdef"  # noqa: S105
MODERATOR = ("bench-moderator", "bench password 123")
FIRST_IP = ipaddress.ip_address("198.18.0.1")  # RFC 2544's benchmark range
STARTER_OFFSET = 65536  # the starter site's readers: 198.19.x.x, other e-mails
# The starter word lists of docs/spam.md (tests/spam/test_corpus.py keeps them).
BLOCKED = "viagra\ncialis\nlevitra\nonline casino\npayday loan\nreplica watches\n"
BLOCKED += "buy followers\nseo services\nessay writing service\nescort service"
WATCH = "bitcoin\ncrypto\nforex\nmake money\nearn money\nwork from home\n"
WATCH += "gift card\nclick here\nporn"


def make_app(database_url: str, prefix: str):
    from commentsvc import create_app

    return create_app(
        {
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            "REDIS_KEY_PREFIX": prefix,
            "LOG_ACCESS": False,
        }
    )


def seed(app, slugs: list[str]) -> dict[str, int]:
    """Migrate, create the sites and the moderator; the sites' ids."""
    from flask_migrate import upgrade

    from commentsvc import sites
    from commentsvc.models import Role
    from commentsvc.moderation.accounts import create_moderator

    ids = {}
    with app.app_context():
        # Alembic logs each migration to stderr: shown only if one fails.
        said = io.StringIO()
        try:
            with contextlib.redirect_stderr(said):
                upgrade()
        except Exception:
            print(said.getvalue(), file=sys.stderr)
            raise
        for slug in slugs:
            site = sites.create_site(
                slug,
                slug,
                allowed_origins=[ORIGIN],
                blocked_words=BLOCKED,
                watch_words=WATCH,
            )
            ids[slug] = site.id
        create_moderator(*MODERATOR, role=Role.MODERATOR, site_slugs=slugs)
    return ids


def stored(app, comment_id: int) -> dict:
    """How the comment was stored: its status, version and held reasons, the
    filter's probability.

    Raises:
        BenchError: the bench's database has no such comment.
    """
    from commentsvc.extensions import db
    from commentsvc.models import Comment

    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        if comment is None:
            raise BenchError(f"comment {comment_id} is not in the bench's database")
        signals = comment.signals or {}
        result = {
            "status": comment.status.value,
            "version": comment.version,
            "held": sorted(signals.get("held") or {}),
            "p": (signals.get("spam_filter") or {}).get("probability"),
        }
        db.session.rollback()
    return result


def action_for(row: dict, status: str, confirm_spam: bool) -> str | None:
    """What the moderator does with a comment stored as *status*."""
    if not row["spam"]:
        return None if status == "approved" else "approve"
    if status == "spam" and not confirm_spam:
        return None
    return "spam"


# Seconds of each step a reader or the moderator takes, for the report.
TIMES = {"post": [], "decide": []}


def median_ms(values: list[float]) -> float | None:
    return round(sorted(values)[len(values) // 2] * 1000, 1) if values else None


def replay(app, reader, moderator, slug, site_id, rows, *, offset=0, learn=None):
    """Post *rows* to *slug* one by one; with *learn* (a dict of options and
    the worker) the moderator decides each after it is stored."""
    results, decisions, waited = [], 0, 0.0
    for i, row in enumerate(rows):
        n = offset + i
        ip = str(FIRST_IP + n)
        started = time.perf_counter()
        answer = reader.post(slug, n, ip, row)
        TIMES["post"].append(time.perf_counter() - started)
        result = {**row, "i": i, "decided_before": decisions, "id": answer["id"]}
        result.update(stored(app, answer["id"]))
        results.append(result)
        action = learn and action_for(row, result["status"], learn["confirm_spam"])
        if not action:
            continue
        card = moderator.card(slug, result["status"], result, email_of(n))
        started = time.perf_counter()
        moderator.decide(card, action)
        TIMES["decide"].append(time.perf_counter() - started)
        result["decided"] = action
        decisions += 1
        if decisions % learn["sync_every"] == 0:
            waited += wait_for_training(app, site_id, learn["worker"])
    return results, decisions, waited


def revision() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="a labelled corpus (CSV or TSV); repeat for more; replaces the default",
    )
    parser.add_argument("--limit", type=int, default=1500, help="comments replayed")
    parser.add_argument("--seed", type=int, default=7, help="the interleaving's")
    parser.add_argument(
        "--confirm-spam",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="confirm spam already stored as spam (default) or leave it alone",
    )
    parser.add_argument(
        "--after", type=int, default=500, help="decisions before the figures"
    )
    parser.add_argument(
        "--first",
        type=int,
        default=50,
        help="early decisions compared with the starter",
    )
    parser.add_argument(
        "--sync-every",
        type=int,
        default=20,
        help="decisions between waits for the trainer",
    )
    parser.add_argument(
        "--json", type=Path, metavar="OUT", help="write every figure here"
    )
    parser.add_argument("--quick", action="store_true", help="30 comments: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.limit, args.after, args.first, args.sync_every = 30, 10, 10, 10
    for name in ("limit", "sync_every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def load_sources(args) -> tuple[dict, list[str]]:
    if not args.corpus:
        return eval_corpora.default_sources()
    sources, described = {}, []
    for spec in args.corpus:
        name, path = eval_corpora.parse_spec(spec)
        sources[name] = eval_corpora.read_corpus(path)
        described.append(f"{name} = {path}")
    return sources, described


def run(args) -> dict:
    """The whole evaluation; every figure, as the JSON holds it."""
    sources, described = load_sources(args)
    rows = eval_corpora.interleave(sources, args.limit, args.seed)
    checkout = revision()
    started = time.monotonic()
    logs = Path(tempfile.mkdtemp(prefix="filter-eval-"))
    with scratch_database() as (database_url, prefix):
        env = dict(
            os.environ,
            COMMENTSVC_SECRET_KEY=SECRET,
            COMMENTSVC_DATABASE_URL=database_url,
            COMMENTSVC_REDIS_KEY_PREFIX=prefix,
            COMMENTSVC_RATELIMIT_POST="100000000/minute",
            COMMENTSVC_RATELIMIT_POST_ALL_SITES="100000000/minute",
            COMMENTSVC_RATELIMIT_CAPTCHA="100000000/minute",
            COMMENTSVC_TRUSTED_PROXIES="1",
            COMMENTSVC_LOG_ACCESS="0",
        )
        app = make_app(database_url, prefix)
        ids = seed(app, ["learning", "starter"])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = gunicorn(
            "wsgi:app", port, env, "--threads", "4", log=logs / "gunicorn.log"
        )
        with contextlib.ExitStack() as stack:
            # The worker starts while gunicorn does.
            worker = stack.enter_context(spam_worker(env, logs / "spam-worker.log"))
            stack.enter_context(server)
            wait_for_worker(app, worker)
            reader = stack.enter_context(contextlib.closing(Reader(base, SECRET)))
            moderator = Moderator(base, *MODERATOR)
            stack.enter_context(contextlib.closing(moderator))
            moderator.log_in()
            # The starter alone first: no site has decided anything yet.
            early = rows[: max(2 * args.first, args.first + 20)]
            starter, _, _ = replay(
                app,
                reader,
                None,
                "starter",
                ids["starter"],
                early,
                offset=STARTER_OFFSET,
            )
            options = {
                "confirm_spam": args.confirm_spam,
                "sync_every": args.sync_every,
                "worker": worker,
            }
            learning, decisions, waited = replay(
                app,
                reader,
                moderator,
                "learning",
                ids["learning"],
                rows,
                learn=options,
            )
            waited += wait_for_training(app, ids["learning"], worker)
            model = trained(app, ids["learning"])
    seconds = time.monotonic() - started
    after = [r for r in learning if r["decided_before"] >= args.after]
    overall = eval_figures.figures(after)
    return {
        "run": {
            "revision": checkout,
            "corpora": described,
            "comments": len(learning),
            "limit": args.limit,
            "seed": args.seed,
            "confirm_spam": args.confirm_spam,
            "decisions": decisions,
            "after": args.after,
            "first": args.first,
            "sync_every": args.sync_every,
            "seconds": round(seconds, 1),
            "waited_for_trainer": round(waited, 1),
            "median_ms": {step: median_ms(values) for step, values in TIMES.items()},
            "trained_through": model[1],
            "latest_decision": model[0],
            "logs": str(logs),
        },
        "after": {
            "comments": len(after),
            "from": after[0]["i"] + 1 if after else None,
            "overall": overall,
            "by_source": eval_figures.by_source(after, list(sources)),
            "targets": {k: list(v) for k, v in eval_figures.TARGETS.items()},
            "met": eval_figures.verdicts(overall),
        },
        "curve": eval_figures.curve(learning),
        "first": eval_figures.first_decisions(learning, starter, args.first),
    }


def report(result: dict) -> None:
    from bench.eval_report import print_report

    print_report(result)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except (eval_corpora.CorpusError, BenchError) as error:
        print(f"filter_eval: {error}", file=sys.stderr)
        return 1
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))
        print(f"figures written to {args.json}")
    if args.quick:
        return quick_checks(result)
    return 0


def quick_checks(result: dict) -> int:
    """A smoke run ran when every comment was stored, the moderator decided
    them through the queue, and the worker learned from the decisions."""
    run_ = result["run"]
    problems = []
    if run_["comments"] != run_["limit"]:
        problems.append(f"{run_['comments']} of {run_['limit']} comments replayed")
    if run_["decisions"] == 0:
        problems.append("no decision made")
    if run_["trained_through"] < run_["latest_decision"] or not run_["trained_through"]:
        problems.append("the worker did not learn the decisions")
    print(f"quick run: {'OK' if not problems else 'BROKEN: ' + '; '.join(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""The learning spam filter, evaluated as a new site would live it: a labelled
corpus replayed in order through the HTTP API (gunicorn, PostgreSQL, Redis),
each comment from its own IP and email with a form token aged past the minimum,
on a site with the default settings plus docs/spam.md's starter word lists; a
simulated moderator decides each comment by its label after it is stored,
through the service the moderation UI uses; the training worker runs as its
own process (``flask spam worker``) and learns from those decisions.

Prints, against the targets:
1. the learning curve (per 100 comments: spam stored as spam, spam held, real
   stored as spam, real held) and the figures after 500 decisions;
2. the starter model alone, on a site whose moderators decide nothing;
3. split by source: a site taught on one corpus, then tested on another.

    .venv/bin/python bench/spam_learning.py [--corpus FILE ...] [--limit 1500]
        [--sync-every 20] [--sqlite]

A corpus file is CSV with ``label`` (spam/ham) and ``content`` columns (and an
optional ``author``), or TSV lines ``label<TAB>text``. The default corpus is
tests/data/youtube_spam/psy.csv with the evaluation half of
data/spam/sms_spam_collection.tsv (the lines the starter model never saw),
interleaved in a fixed order. The UCI YouTube Spam Collection's other four
files, the YouTube Spam Experiment sets and the DataCamp comment set are kept
for independent evaluation: pass them with --corpus; nothing here was tuned on
them.
"""

import argparse
import contextlib
import csv
import ipaddress
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402

from bench.scratch import gunicorn, scratch_database  # noqa: E402

ORIGIN = "https://news.example"
PORT = 18461
FIRST_IP = ipaddress.ip_address("198.18.0.1")
SECRET = "bench-spam-learning-secret-key-0123456789"
DECIDED_AFTER = 500
TARGETS = {
    "spam stored as spam": (">=", 0.80),
    "spam stored as spam or held": (">=", 0.90),
    "real stored as spam": ("<=", 0.01),
}
# The starter lists of docs/spam.md (tests/spam/test_corpus.py keeps them).
BLOCKED = "viagra\ncialis\nlevitra\nonline casino\npayday loan\nreplica watches\n"
BLOCKED += "buy followers\nseo services\nessay writing service\nescort service"
WATCH = "bitcoin\ncrypto\nforex\nmake money\nearn money\nwork from home\n"
WATCH += "gift card\nclick here\nporn"


# -- corpora -----------------------------------------------------------------
# Windows-1252 punctuation left as C1 controls in some corpora (the API refuses
# control characters, as a reader's browser would never send them).
_C1 = {0x91: "'", 0x92: "'", 0x93: '"', 0x94: '"', 0x96: "-", 0x97: "-"}
_CONTROL = {c: None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]}
_CONTROL |= {c: _C1.get(c) for c in range(0x7F, 0xA0)}


def clean(text: str) -> str:
    return text.translate(_CONTROL)


def read_corpus(path: Path) -> list[dict]:
    """Rows of ``{"author", "body", "spam"}`` from a CSV or TSV corpus file."""
    rows = []
    if path.suffix == ".tsv":
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            label, text = line.split("\t", 1)
            rows.append(
                {"n": n, "author": "", "body": clean(text), "spam": label == "spam"}
            )
        return rows
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f)):
            label = (row.get("label") or row.get("CLASS") or "").strip().lower()
            body = clean(row.get("content") or row.get("CONTENT") or "")
            spam = label in ("spam", "1")
            rows.append(
                {
                    "n": n,
                    "author": row.get("author") or row.get("AUTHOR") or "",
                    "body": body,
                    "spam": spam,
                }
            )
    return rows


def default_corpus() -> dict[str, list[dict]]:
    psy = read_corpus(ROOT / "tests" / "data" / "youtube_spam" / "psy.csv")
    sms = read_corpus(ROOT / "data" / "spam" / "sms_spam_collection.tsv")
    # The starter model learned from the even lines; these it never saw.
    sms = [row for row in sms if row["n"] % 2 == 1]
    return {"psy.csv": psy, "sms (evaluation half)": sms}


def interleave(sources: dict[str, list[dict]], limit: int, seed=7) -> list[dict]:
    """The sources merged in a fixed pseudo-random order, each keeping its own
    order, cut to *limit* comments."""
    rng = random.Random(seed)
    queues = {name: list(rows) for name, rows in sources.items()}
    merged = []
    while any(queues.values()) and len(merged) < limit:
        names = [n for n, q in queues.items() if q]
        weights = [len(queues[n]) for n in names]
        name = rng.choices(names, weights)[0]
        row = dict(queues[name].pop(0), source=name)
        merged.append(row)
    return merged


# -- the service -----------------------------------------------------------
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


def seed(app, slugs: list[str]) -> None:
    from flask_migrate import upgrade

    from commentsvc import sites
    from commentsvc.models import Role
    from commentsvc.moderation.accounts import create_moderator

    with app.app_context():
        upgrade()
        for slug in slugs:
            sites.create_site(
                slug,
                slug,
                allowed_origins=[ORIGIN],
                blocked_words=BLOCKED,
                watch_words=WATCH,
            )
        create_moderator("bench-moderator", "bench password 123", role=Role.ADMIN)


def form_token(slug: str) -> str:
    """A form token issued 40 s before (the embed's, for a reader who wrote)."""
    import secrets

    from itsdangerous import URLSafeSerializer

    from commentsvc.spam import formtoken

    serializer = URLSafeSerializer(SECRET, salt=formtoken._SALT)
    return serializer.dumps(
        {"s": slug, "t": round(time.time() - 40, 3), "n": secrets.token_urlsafe(9)}
    )


def post(session, slug: str, n: int, row: dict) -> int:
    story = f"/2026/11/story-{n % 12}"
    response = session.post(
        f"http://127.0.0.1:{PORT}/api/v1/sites/{slug}/comments",
        json={
            "thread": story,
            "url": ORIGIN + story,
            "title": f"Story {n % 12}",
            "author": (row["author"] or f"Reader {n}")[:100],
            "email": f"reader{n}@example.org",
            "body": row["body"][:5000] or "(empty)",
            "form_token": form_token(slug),
        },
        headers={"Origin": ORIGIN, "X-Forwarded-For": str(FIRST_IP + n)},
        timeout=30,
    )
    if response.status_code != 202:
        raise RuntimeError(f"post {n}: {response.status_code} {response.text[:300]}")
    return response.json()["id"]


def outcome(app, comment_id: int) -> tuple[str, float | None]:
    from commentsvc.extensions import db
    from commentsvc.models import Comment, CommentStatus

    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        signals = comment.signals or {}
        probability = (signals.get("spam_filter") or {}).get("probability")
        if comment.status == CommentStatus.SPAM:
            return "spam", probability
        return ("held" if signals.get("held") else "pass"), probability


def decide(app, comment_id: int, is_spam: bool) -> None:
    """The moderator's decision, through the service the UI calls."""
    import sqlalchemy as sa

    from commentsvc.comments.moderation import Target, moderate
    from commentsvc.extensions import db
    from commentsvc.models import Comment, CommentStatus, Moderator

    with app.app_context():
        moderator = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "bench-moderator")
        )
        comment = db.session.get(Comment, comment_id)
        to = CommentStatus.SPAM if is_spam else CommentStatus.APPROVED
        moderate(moderator, [Target(comment.id, comment.version)], to)


def wait_for_training(app, slug: str, timeout=120.0) -> None:
    """Until the worker's model covers every decision of *slug* so far (the
    moderator is slower than the trainer, as on a real site)."""
    import sqlalchemy as sa

    from commentsvc.extensions import db
    from commentsvc.learning import store
    from commentsvc.models import Site, SpamModel

    deadline = time.monotonic() + timeout
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == slug))
        while time.monotonic() < deadline:
            latest = store.latest_decision(site_id).get(site_id, 0)
            trained = db.session.scalar(
                sa.select(SpamModel.trained_through).where(SpamModel.site_id == site_id)
            )
            labels = {spam for spam, _ in store.recent_decisions(site_id, 100_000)}
            db.session.commit()
            if len(labels) < 2 or (trained or 0) >= latest:
                return
            time.sleep(0.2)
    raise RuntimeError(f"the worker did not train {slug} in {timeout} s")


# -- runs ----------------------------------------------------------------------
DECISION_MS: list[float] = []


def wake_up_cost(app, slug: str, times=500) -> float:
    """Median ms of what a decision pays for the filter: the trainers' wake-up
    (one Redis PUBLISH after the commit)."""
    import statistics

    import sqlalchemy as sa

    from commentsvc import learning
    from commentsvc.extensions import db
    from commentsvc.models import Site

    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == slug))
        spent = []
        for _ in range(times):
            started = time.perf_counter()
            learning.decisions_made({site_id})
            spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def replay(app, slug, rows, *, learn: bool, sync_every: int, offset=0) -> list[dict]:
    results = []
    with requests.Session() as session:
        for i, row in enumerate(rows):
            comment_id = post(session, slug, offset + i, row)
            got, probability = outcome(app, comment_id)
            results.append({**row, "outcome": got, "p": probability})
            if learn:
                started = time.perf_counter()
                decide(app, comment_id, row["spam"])
                DECISION_MS.append((time.perf_counter() - started) * 1000)
                if (i + 1) % sync_every == 0:
                    wait_for_training(app, slug)
    return results


def rates(results: list[dict]) -> dict:
    spam = [r for r in results if r["spam"]]
    real = [r for r in results if not r["spam"]]

    def share(rows, *outcomes):
        return sum(r["outcome"] in outcomes for r in rows) / len(rows) if rows else 0.0

    return {
        "spam": len(spam),
        "real": len(real),
        "spam stored as spam": share(spam, "spam"),
        "spam held": share(spam, "held"),
        "spam stored as spam or held": share(spam, "spam", "held"),
        "real stored as spam": share(real, "spam"),
        "real held": share(real, "held"),
    }


def print_curve(results: list[dict]) -> None:
    print("  comments   spam: as spam   held | real: as spam   held")
    for start in range(0, len(results), 100):
        r = rates(results[start : start + 100])
        print(
            f"  {start + 1:>5}-{start + 100:<5} {r['spam']:>3}: "
            f"{r['spam stored as spam']:6.1%} {r['spam held']:6.1%} | "
            f"{r['real']:>3}: {r['real stored as spam']:6.1%} {r['real held']:6.1%}"
        )


def print_figures(title: str, r: dict, targets=TARGETS) -> bool:
    print(f"  {title}: {r['spam']} spam, {r['real']} real")
    ok = True
    for name in (
        "spam stored as spam",
        "spam stored as spam or held",
        "real stored as spam",
        "real held",
    ):
        line = f"    {name:<30} {r[name]:7.1%}"
        if name in targets:
            op, goal = targets[name]
            met = r[name] >= goal if op == ">=" else r[name] <= goal
            ok &= met
            line += f"   (target {op} {goal:.0%}: {'PASS' if met else 'FAIL'})"
        print(line)
    return ok


def split_offline(sources: dict[str, list[dict]]) -> None:
    """Each source taught alone (a model of its labels only, no starter), then
    scored on each other source at the default thresholds: how far one site's
    lessons carry to another kind of spam."""
    from commentsvc.learning import features
    from commentsvc.learning.training import Example, train
    from commentsvc.models import SPAM_HOLD_THRESHOLD, SPAM_THRESHOLD

    for taught, rows in sources.items():
        model, _ = train([Example(r["author"], r["body"], r["spam"]) for r in rows])
        for tested, others in sources.items():
            if tested == taught:
                continue
            results = []
            for i, row in enumerate(others):
                p = model.probability(
                    features.extract(row["author"] or f"R{i}", row["body"])
                )
                got = (
                    "spam"
                    if p >= SPAM_THRESHOLD
                    else "held"
                    if p >= SPAM_HOLD_THRESHOLD
                    else "pass"
                )
                results.append({**row, "outcome": got})
            print_figures(
                f"taught on {taught} alone, tested on {tested}", rates(results), {}
            )


@contextlib.contextmanager
def spam_worker(env: dict):
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "spam", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", type=Path, default=[])
    parser.add_argument("--limit", type=int, default=1500)
    parser.add_argument("--sync-every", type=int, default=20)
    parser.add_argument("--sqlite", action="store_true", help="SQLite, not PostgreSQL")
    args = parser.parse_args()
    sources = (
        {p.name: read_corpus(p) for p in args.corpus}
        if args.corpus
        else default_corpus()
    )
    rows = interleave(sources, args.limit)
    names = list(sources)

    with scratch_database() as (database_url, prefix):
        if args.sqlite:
            database_url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
        env = dict(
            os.environ,
            COMMENTSVC_SECRET_KEY=SECRET,
            COMMENTSVC_DATABASE_URL=database_url,
            COMMENTSVC_REDIS_KEY_PREFIX=prefix,
            COMMENTSVC_RATELIMIT_POST="100000000/minute",
            COMMENTSVC_TRUSTED_PROXIES="1",
            COMMENTSVC_LOG_ACCESS="0",
            COMMENTSVC_SPAM_POLL_INTERVAL="1",
        )
        app = make_app(database_url, prefix)
        seed(app, ["learning", "starter", "split"])
        started = time.monotonic()
        with gunicorn("wsgi:app", PORT, env, "--threads", "4"), spam_worker(env):
            learning = replay(
                app, "learning", rows, learn=True, sync_every=args.sync_every
            )
            starter = replay(
                app, "starter", rows, learn=False, sync_every=0, offset=10**5
            )
            split = None
            if len(names) >= 2:
                taught = [dict(r, source=names[0]) for r in sources[names[0]]]
                tested = [r for r in rows if r["source"] != names[0]]
                replay(
                    app,
                    "split",
                    taught,
                    learn=True,
                    sync_every=args.sync_every,
                    offset=2 * 10**5,
                )
                wait_for_training(app, "split")
                split = replay(
                    app, "split", tested, learn=False, sync_every=0, offset=3 * 10**5
                )
            wake_ms = wake_up_cost(app, "learning")
        seconds = time.monotonic() - started

    print(f"corpus: {', '.join(f'{n} ({len(s)})' for n, s in sources.items())};")
    print(
        f"replayed {len(rows)} comments in a fixed interleaved order; "
        f"{'SQLite' if args.sqlite else 'PostgreSQL'}, gunicorn, Redis, "
        f"the worker retraining as decisions come (synced every {args.sync_every})"
    )
    print("\n1. A new site whose moderator decides every comment after it is stored")
    print_curve(learning)
    ok = print_figures(
        f"after {DECIDED_AFTER} decisions (comments {DECIDED_AFTER + 1}-{len(rows)})",
        rates(learning[DECIDED_AFTER:]),
    )
    print("\n2. The starter model alone (a new site, no decisions)")
    ok &= print_figures(
        "every comment", rates(starter), {"real stored as spam": ("<=", 0.01)}
    )
    if split is not None:
        print(
            f"\n3. Split by source: taught on {names[0]} ({len(sources[names[0]])} "
            f"decisions), tested on the others, not learning"
        )
        print_figures(f"tested on {', '.join(names[1:])}", rates(split), {})
        print(
            "   the same, offline, each source's model alone (no starter blended in):"
        )
        split_offline(sources)
    import statistics

    decision = statistics.median(DECISION_MS)
    met = wake_ms < 5
    ok &= met
    print(
        f"\n4. What a decision pays for the filter: the trainers' wake-up, "
        f"{wake_ms:.3f} ms median (target < 5 ms: {'PASS' if met else 'FAIL'});"
        f"\n   a whole decision through moderate() took {decision:.1f} ms median "
        f"(the training itself runs in the worker)"
    )
    print(f"\nall targets: {'PASS' if ok else 'FAIL'}  ({seconds:.0f} s)")


if __name__ == "__main__":
    main()

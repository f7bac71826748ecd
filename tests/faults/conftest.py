"""Fixtures for the fault tests: a PostgreSQL server of their own (which a test
may stop and restart), apps on fresh databases of it, and readers that post and
read over real HTTP while something breaks.

Every app gets its own database (copied from a migrated template, so no test
pays for the migrations) and its own Redis key prefix; both are removed after.
"""

import os
import threading
import time
import uuid
from dataclasses import dataclass

import pytest
import requests
import sqlalchemy as sa
from conftest import REDIS_PREFIX, base_config, close_redis_clients
from factories import ORIGIN, comment_payload
from flask_migrate import upgrade
from servers import app_environment, wait_until

from commentsvc import create_app
from commentsvc.extensions import db
from commentsvc.models import Comment, Thread, WebhookEvent
from commentsvc.webhooks.outbox import COMMENT_CREATED

from .postgres import PostgresServer

TEMPLATE = "faults_template"
POST = "/api/v1/sites/news/comments"


@pytest.fixture(scope="session")
def own_postgres():
    """A PostgreSQL server on a free port, initialised once per run, with a
    migrated template database. A server that cannot start fails the tests
    that need it, with PostgreSQL's own words."""
    server = PostgresServer()
    try:
        server.init()
        server.start()
        server.execute(f"CREATE DATABASE {TEMPLATE}")
        app = create_app(base_config(server.url(TEMPLATE)))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        close_redis_clients(app)
        yield server
    finally:
        server.destroy()


@pytest.fixture
def fault_app(own_postgres):
    """``fault_app(**config)``: an app on a fresh database of the tests' own
    PostgreSQL server. The server is running again after the test, whatever
    the test did to it, and the database is dropped."""
    made = []

    def factory(**overrides):
        name = f"faults_{uuid.uuid4().hex[:12]}"
        own_postgres.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        overrides.setdefault("REDIS_KEY_PREFIX", f"{REDIS_PREFIX}faults-{name}:")
        app = create_app(base_config(own_postgres.url(name), **overrides))
        made.append((name, app))
        return app

    yield factory
    if not own_postgres.running():
        own_postgres.start()
    for name, app in made:
        with app.app_context():
            db.engine.dispose()
        close_redis_clients(app)
        own_postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def process_env(app, **settings) -> dict:
    """The environment of a gunicorn or worker process serving *app*, plus
    ``COMMENTSVC_<name>`` for each extra setting."""
    env = app_environment(app)
    for name, value in settings.items():
        env[f"COMMENTSVC_{name}"] = str(value)
    return env


def child_pids(pid: int) -> set[int]:
    """The processes whose parent is *pid* (gunicorn's workers)."""
    children = set()
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            with open(f"/proc/{stat}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.add(int(stat))
    return children


@dataclass
class Result:
    kind: str  # "post" or "read"
    status: int  # 0: no HTTP answer at all
    started: float  # time.monotonic() when the request was sent
    elapsed: float
    headers: dict
    body: dict | None
    error: str | None = None

    @property
    def finished(self) -> float:
        return self.started + self.elapsed


def _answer(kind: str, started: float, call) -> Result:
    try:
        response = call()
    except requests.RequestException as error:
        elapsed = time.monotonic() - started
        return Result(kind, 0, started, elapsed, {}, None, repr(error))
    try:
        body = response.json()
    except ValueError:
        body = None
    return Result(
        kind,
        response.status_code,
        started,
        time.monotonic() - started,
        dict(response.headers),
        body,
    )


def post(session, base: str, name: str, **fields) -> Result:
    """Post a comment on a thread of its own (the post creates the thread)."""
    thread = f"/fault/{name}"
    payload = comment_payload(
        thread=thread, url=f"{ORIGIN}{thread}", body=f"Comment {name}.", **fields
    )
    started = time.monotonic()
    return _answer(
        "post", started, lambda: session.post(base + POST, json=payload, timeout=20)
    )


def read(session, base: str, thread: str) -> Result:
    started = time.monotonic()
    return _answer(
        "read",
        started,
        lambda: session.get(base + POST, params={"thread": thread}, timeout=20),
    )


class Traffic:
    """Readers posting (each post on a thread of its own) and reading, over
    real HTTP in threads, until the ``with`` block ends."""

    def __init__(self, base: str, posters: int = 8, readers: int = 2):
        self.base = base
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results: list[Result] = []
        self.threads = [
            threading.Thread(target=self._post, args=(n,), daemon=True)
            for n in range(posters)
        ] + [
            threading.Thread(target=self._read, args=(n,), daemon=True)
            for n in range(readers)
        ]

    def __enter__(self) -> "Traffic":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _record(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)

    def _post(self, poster: int) -> None:
        session = requests.Session()
        n = 0
        while not self.stop.is_set():
            self._record(post(session, self.base, f"{poster}-{n}"))
            n += 1
            time.sleep(0.002)
        session.close()

    def _read(self, reader: int) -> None:
        # A thread nobody read before each time (the long tail of articles):
        # never an answer from the app's in-process read cache.
        session = requests.Session()
        n = 0
        while not self.stop.is_set():
            self._record(read(session, self.base, f"/fault/read-{reader}-{n}"))
            n += 1
            time.sleep(0.002)
        session.close()

    def since(self, moment: float = 0.0) -> list[Result]:
        """What was answered to requests sent after *moment* (time.monotonic())."""
        with self.lock:
            return [r for r in self.results if r.started > moment]

    def count(self, status: int, kind: str = "post", since: float = 0.0) -> int:
        return sum(
            1 for r in self.since(since) if r.status == status and r.kind == kind
        )

    def wait_for(
        self, status: int, count: int, kind: str = "post", since=0.0, timeout=30
    ) -> None:
        """Wait for *count* answers *status* to *kind* requests sent after
        *since*."""
        wait_until(
            lambda: self.count(status, kind, since) >= count,
            timeout=timeout,
            interval=0.02,
        )


def post_together(base: str, count: int, fields=lambda n: {}) -> list[Result]:
    """*count* posts sent at once (released by one barrier); post *n* carries
    ``fields(n)`` besides the usual payload."""
    barrier = threading.Barrier(count)
    results: list[Result | None] = [None] * count

    def send(n: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            results[n] = post(session, base, f"together-{n}", **fields(n))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@dataclass
class Stored:
    comment_ids: list[int]
    # The comment id in each comment.created event's payload.
    event_comment_ids: list[int]
    threads_without_comments: int


def stored(app) -> Stored:
    """What the database holds, read in the test's own process."""
    with app.app_context():
        comment_ids = db.session.scalars(sa.select(Comment.id).order_by(Comment.id))
        payloads = db.session.scalars(
            sa.select(WebhookEvent.payload).where(WebhookEvent.type == COMMENT_CREATED)
        )
        empty = db.session.scalar(
            sa.select(sa.func.count(Thread.id)).where(
                ~sa.exists().where(Comment.thread_id == Thread.id)
            )
        )
        result = Stored(
            list(comment_ids),
            sorted(p["data"]["comment"]["id"] for p in payloads),
            empty,
        )
        db.session.rollback()
        return result

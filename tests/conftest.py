"""Fixtures: the app on SQLite and on PostgreSQL, a client, a CLI runner, a live
server, and clean-up of everything a test stored.

Each test run gets its own PostgreSQL database (created here, dropped at the end)
and its own Redis key prefix, so the suite can share the servers with CI.
Set COMMENTSVC_TEST_BACKENDS=sqlite (or postgresql) to run against one only, and
COMMENTSVC_TEST_POSTGRES_URL to use another PostgreSQL server.
"""

import gc
import io
import json
import logging
import os
import uuid
import warnings

import psycopg
import pytest
import redis
import sqlalchemy as sa
from flask_migrate import upgrade
from servers import InBackground
from werkzeug.serving import make_server

from commentsvc import create_app
from commentsvc.extensions import db
from commentsvc.logs import JsonFormatter, RequestIdFilter

POSTGRES_ADMIN_URL = os.environ.get(
    "COMMENTSVC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("COMMENTSVC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = [
    b.strip()
    for b in os.environ.get("COMMENTSVC_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]
RUN_ID = uuid.uuid4().hex[:10]
REDIS_PREFIX = f"commentsvc-test-{RUN_ID}:"


def _postgres_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def _admin(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)


def create_postgres_database(name: str) -> str:
    _admin(f'CREATE DATABASE "{name}"')
    return _postgres_url(name)


def drop_postgres_database(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def base_config(database_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-of-the-suite-0123456789abcdef",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": REDIS_PREFIX,
        # Limits stay on (counted in the real Redis) but out of the way; the rate
        # limit tests set their own.
        "RATELIMIT_POST": "100000/minute",
        "RATELIMIT_POST_ALL_SITES": "100000/minute",
        "RATELIMIT_READ": "100000/minute",
        "RATELIMIT_CAPTCHA": "100000/minute",
        "RATELIMIT_SIGN_IN": "100000/minute",
        # Many tests change rows behind the service's back (to set a status, an
        # age): the read cache would rightly serve what it had. Its own tests
        # turn it on.
        "READ_CACHE_TTL": 0,
        # argon2's cheapest parameters: the suite logs moderators in about a
        # thousand times, at a quarter of a second each with production's.
        "PASSWORD_HASH_PROFILE": "cheapest",
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """One migrated database per backend for the whole run."""
    urls = {}
    created = []
    try:
        for backend in BACKENDS:
            if backend == "sqlite":
                path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
                urls[backend] = f"sqlite:///{path}"
            elif backend == "postgresql":
                name = f"commentsvc_test_{RUN_ID}"
                urls[backend] = create_postgres_database(name)
                created.append(name)
            else:
                raise pytest.UsageError(f"unknown backend {backend!r}")
            app = create_app(base_config(urls[backend]))
            with app.app_context():
                upgrade()
                db.engine.dispose()
        yield urls
    finally:
        for name in created:
            drop_postgres_database(name)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def _wipe(app) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        # DELETE, not TRUNCATE: on a few rows it is many times faster.
        with db.engine.begin() as connection:
            for table in tables:
                connection.execute(sa.text(f"DELETE FROM {table}"))
        db.engine.dispose()


@pytest.fixture
def make_app(database_urls, backend):
    """Build apps on this test's backend; everything they stored is wiped after."""
    apps = []
    # Each test counts rate limits and single-use tokens under its own prefix.
    prefix = f"{REDIS_PREFIX}{uuid.uuid4().hex[:8]}:"

    def factory(**overrides):
        overrides.setdefault("REDIS_KEY_PREFIX", prefix)
        app = create_app(base_config(database_urls[backend], **overrides))
        apps.append(app)
        return app

    yield factory
    if apps:
        _wipe(apps[0])
    for app in apps[1:]:
        with app.app_context():
            db.engine.dispose()
    for app in apps:
        close_redis_clients(app)


def close_redis_clients(app) -> None:
    """Close the app's Redis connections now: an app dropped with them open is
    collected in a cycle, where a socket may be finalized before the connection
    that would close it (a ResourceWarning, an error here)."""
    app.extensions["commentsvc.redis"].close()
    storage = getattr(app.extensions["commentsvc.limiter"], "storage", None)
    client = getattr(storage, "storage", None)
    if hasattr(client, "close"):
        client.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield


@pytest.fixture(scope="session", autouse=True)
def _clean_redis():
    yield
    client = redis.Redis.from_url(REDIS_URL)
    # Flask-Limiter puts its own prefix ("LIMITS:LIMITER/") before ours.
    keys = list(client.scan_iter(match=f"*{REDIS_PREFIX}*"))
    if keys:
        client.delete(*keys)
    client.close()


class LiveServer(InBackground):
    """The app served over real HTTP by a threaded werkzeug server."""

    def __init__(self, app):
        self._serve(make_server("127.0.0.1", 0, app, threaded=True))
        self.url = f"http://127.0.0.1:{self.port}"


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def live_server_for():
    """Serve an app of the test's choosing: ``with live_server_for(app) as s:``."""
    return LiveServer


@pytest.fixture
def log_lines():
    """Everything the commentsvc loggers write during the test, parsed as JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("commentsvc")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def pytest_sessionfinish(session):
    """Collect what the run left to the garbage collector before pytest's own
    last collection, with ResourceWarning quiet. Every app's Redis clients are
    closed by its fixture, yet one run in several ended with a socket to Redis
    finalized in a cycle at exit (and pytest, with warnings as errors, turned
    that into a failed run after every test had passed). Leaks during the run
    still fail the test where they are collected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    # Threads of live servers may still have written a key (a listing's
    # version) after _clean_redis ran: sweep the run's prefix once more.
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"*{REDIS_PREFIX}*"))
    if keys:
        client.delete(*keys)
    client.close()

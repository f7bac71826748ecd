"""Configuration: COMMENTSVC_* environment variables, fail-fast on bad values,
defaults, and the templates folder the factory points at."""

import os
import subprocess
import sys

import pytest
from factories import make_site

from commentsvc import PROJECT_ROOT, create_app
from commentsvc.config import DEFAULTS, DEMO_SECRET_KEY, ENV_PREFIX, ConfigError
from commentsvc.extensions import db, get_redis

# A key long enough for production (32 bytes at least).
ENV_KEY = "from-the-environment-0123456789abcdef"


@pytest.fixture
def environ(monkeypatch, tmp_path):
    """An environment with no COMMENTSVC_* setting but a throwaway database."""
    for name in DEFAULTS:
        monkeypatch.delenv(ENV_PREFIX + name, raising=False)
    monkeypatch.setenv(
        ENV_PREFIX + "DATABASE_URL", f"sqlite:///{tmp_path / 'config.sqlite3'}"
    )
    return monkeypatch


def test_refuses_to_start_without_secret_key(environ):
    with pytest.raises(ConfigError, match="COMMENTSVC_SECRET_KEY"):
        create_app()


def test_an_empty_secret_key_is_missing(environ):
    environ.setenv("COMMENTSVC_SECRET_KEY", "")
    with pytest.raises(ConfigError, match="COMMENTSVC_SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("key", ["s", "test-secret", "x" * 31, "é" * 15])
def test_refuses_a_secret_key_under_32_bytes(environ, key):
    environ.setenv("COMMENTSVC_SECRET_KEY", key)
    with pytest.raises(ConfigError, match="COMMENTSVC_SECRET_KEY must be at least 32"):
        create_app()


def test_a_32_byte_secret_key_is_enough(environ):
    environ.setenv("COMMENTSVC_SECRET_KEY", "é" * 16)
    assert create_app().config["SECRET_KEY"] == "é" * 16


def test_refuses_the_demo_key_without_the_demo(environ):
    environ.setenv("COMMENTSVC_SECRET_KEY", DEMO_SECRET_KEY)
    with pytest.raises(ConfigError, match="demo's published key"):
        create_app()
    with pytest.raises(ConfigError, match="demo's published key"):
        create_app({"TESTING": True})
    environ.setenv("COMMENTSVC_DEV_DEMO", "1")
    assert create_app().config["SECRET_KEY"] == DEMO_SECRET_KEY


def test_the_demo_and_tests_may_use_a_short_key(environ):
    environ.setenv("COMMENTSVC_SECRET_KEY", "short")
    assert create_app({"TESTING": True}).config["SECRET_KEY"] == "short"
    environ.setenv("COMMENTSVC_DEV_DEMO", "1")
    assert create_app().config["SECRET_KEY"] == "short"


def test_a_server_with_a_short_secret_key_does_not_start(environ, tmp_path):
    """The real entry point, as deployed: the process exits naming the setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.update(
        COMMENTSVC_SECRET_KEY="changeme",
        COMMENTSVC_DATABASE_URL=f"sqlite:///{tmp_path / 'short.sqlite3'}",
    )
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "COMMENTSVC_SECRET_KEY must be at least 32 bytes" in done.stderr


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE"])
def test_dev_demo_runs_without_secret_key(environ, value):
    environ.setenv("COMMENTSVC_DEV_DEMO", value)
    app = create_app()
    assert app.config["DEV_DEMO"] is True
    assert app.config["SECRET_KEY"]


def test_tests_run_without_secret_key(environ):
    app = create_app({"TESTING": True})
    assert app.config["SECRET_KEY"]


def test_settings_are_read_from_the_environment(environ):
    environ.setenv("COMMENTSVC_SECRET_KEY", ENV_KEY)
    environ.setenv("COMMENTSVC_DATABASE_URL", "postgresql://u@db.internal:6543/c")
    environ.setenv("COMMENTSVC_REDIS_URL", "redis://cache.internal:6380/2")
    environ.setenv("COMMENTSVC_REDIS_KEY_PREFIX", "blog:")
    environ.setenv("COMMENTSVC_REDIS_SOCKET_TIMEOUT", "1.5")
    environ.setenv("COMMENTSVC_DATABASE_CONNECT_TIMEOUT", "7")
    environ.setenv("COMMENTSVC_MAX_CONTENT_LENGTH", "1000")
    environ.setenv("COMMENTSVC_API_CACHE_MAX_AGE", "60")
    environ.setenv("COMMENTSVC_UNAVAILABLE_RETRY_AFTER", "9")
    environ.setenv("COMMENTSVC_DEV_DEMO", "off")

    app = create_app()

    config = app.config
    assert config["SECRET_KEY"] == ENV_KEY
    assert config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://u@db.internal:6543/c"
    )
    assert config["REDIS_URL"] == "redis://cache.internal:6380/2"
    assert config["REDIS_KEY_PREFIX"] == "blog:"
    assert config["REDIS_SOCKET_TIMEOUT"] == 1.5
    assert config["MAX_CONTENT_LENGTH"] == 1000
    assert config["API_CACHE_MAX_AGE"] == 60
    assert config["UNAVAILABLE_RETRY_AFTER"] == 9
    assert config["DEV_DEMO"] is False
    # The timeouts reach the clients that use them.
    options = config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"]["connect_timeout"] == 7
    with app.app_context():
        redis_options = get_redis().connection_pool.connection_kwargs
        assert redis_options["host"] == "cache.internal"
        assert redis_options["socket_timeout"] == 1.5
        assert redis_options["socket_connect_timeout"] == 1.5
        assert db.engine.url.host == "db.internal"
        assert db.engine.url.port == 6543


def test_the_test_mapping_overrides_the_environment(environ):
    environ.setenv("COMMENTSVC_SECRET_KEY", ENV_KEY)
    environ.setenv("COMMENTSVC_API_CACHE_MAX_AGE", "60")
    app = create_app({"TESTING": True, "API_CACHE_MAX_AGE": 5})
    assert app.config["SECRET_KEY"] == ENV_KEY
    assert app.config["API_CACHE_MAX_AGE"] == 5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEV_DEMO", "maybe"),
        ("DEV_DEMO", "2"),
        ("REDIS_SOCKET_TIMEOUT", "soon"),
        ("REDIS_SOCKET_TIMEOUT", "0"),
        ("REDIS_SOCKET_TIMEOUT", "-1"),
        ("REDIS_SOCKET_TIMEOUT", "nan"),
        ("REDIS_SOCKET_TIMEOUT", "inf"),
        ("DATABASE_CONNECT_TIMEOUT", "3s"),
        ("DATABASE_CONNECT_TIMEOUT", "1.5"),
        # libpq reads 0 as "wait forever": that is no timeout at all.
        ("DATABASE_CONNECT_TIMEOUT", "0"),
        ("DATABASE_CONNECT_TIMEOUT", "-3"),
        ("MAX_CONTENT_LENGTH", "64k"),
        ("API_CACHE_MAX_AGE", "-1"),
        ("UNAVAILABLE_RETRY_AFTER", "soon"),
        ("DATABASE_URL", "mysql://root@localhost/comments"),
        ("DATABASE_URL", "not a url"),
        ("RATELIMIT_IPV6_PREFIX", "8"),
        ("RATELIMIT_IPV6_PREFIX", "129"),
        ("RATELIMIT_IPV6_PREFIX", "/64"),
        ("SPAM_POLL_INTERVAL", "0"),
        ("SPAM_TRAIN_SETTLE", "-1"),
    ],
)
def test_bad_values_fail_fast_naming_the_variable(environ, name, value):
    environ.setenv("COMMENTSVC_SECRET_KEY", ENV_KEY)
    environ.setenv(ENV_PREFIX + name, value)
    with pytest.raises(ConfigError, match=ENV_PREFIX + name):
        create_app()


def test_default_database_is_a_sqlite_file_under_instance(environ):
    environ.delenv("COMMENTSVC_DATABASE_URL")
    app = create_app({"TESTING": True})
    expected = PROJECT_ROOT / "instance" / "commentsvc.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{expected}"
    with app.app_context():
        assert db.engine.dialect.name == "sqlite"
        assert db.engine.url.database == str(expected)


def test_default_redis_url(environ):
    app = create_app({"TESTING": True})
    assert app.config["REDIS_URL"] == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:pw@db.example:5432/comments",
        "postgresql://user:pw@db.example:5432/comments",
        "postgresql+psycopg://user:pw@db.example:5432/comments",
    ],
)
def test_postgres_urls_are_normalised_to_psycopg(environ, url):
    environ.setenv("COMMENTSVC_DATABASE_URL", url)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://user:pw@db.example:5432/comments"
    )
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
        assert db.engine.dialect.driver == "psycopg"


def test_an_html_error_page_renders_from_the_templates_folder(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1>404 Not Found</h1>" in page
    assert "<!doctype html>" in page  # the base template too


def test_the_index_page_names_no_site(client, app_context):
    """The sites an instance serves are its operators' business: the public
    front page says what the service is and where moderators log in."""
    make_site("news", "Example News")
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Example News" not in page
    assert "/api/v1/sites/" not in page
    assert 'href="/moderation/login"' in page


def test_the_demo_index_page_shows_the_demo_site(make_app):
    app = make_app(DEV_DEMO=True)
    with app.app_context():
        make_site("demo", "Demo News")
        make_site("news", "Example News")
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Demo News" in page
    assert "/api/v1/sites/demo/comments" in page
    assert "Example News" not in page

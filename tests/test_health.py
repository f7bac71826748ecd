"""/healthz (the process is up) and /readyz (it can serve: the database
answers; Redis trouble is a warning, since posting and reading go on without
it)."""

import time

import pytest
from conftest import base_config, close_redis_clients
from tcpproxy import Blackhole, free_port
from timing import within

from commentsvc import create_app
from commentsvc.extensions import db


def closed_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def closed_postgres_url() -> str:
    return f"postgresql://postgres@127.0.0.1:{free_port()}/test"


@pytest.fixture
def standalone_app():
    """Apps on dependencies that are down: nothing to wipe, engines disposed."""
    apps = []

    def factory(database_url, **overrides):
        app = create_app(base_config(database_url, **overrides))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.engine.dispose()
        close_redis_clients(app)


def timed_get(client, path):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_ready_when_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_answers_with_every_dependency_down(standalone_app):
    app = standalone_app(closed_postgres_url(), REDIS_URL=closed_redis_url())
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert set(response.json["checks"]) == {"database", "redis"}
    assert "ok" not in response.json["checks"].values()


def test_not_ready_without_the_database(standalone_app):
    app = standalone_app(closed_postgres_url(), UNAVAILABLE_RETRY_AFTER=7)
    response, elapsed = timed_get(app.test_client(), "/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["database"].startswith("unreachable")
    assert response.json["checks"]["redis"] == "ok"
    assert response.headers["Retry-After"] == "7"
    assert elapsed < within(2)


def test_ready_with_a_warning_without_redis(make_app):
    """Posting and reading go on without Redis: a load balancer must keep the
    instance, or a Redis outage would take every instance out of service."""
    app = make_app(REDIS_URL=closed_redis_url())
    response, elapsed = timed_get(app.test_client(), "/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["checks"]["redis"].startswith("unreachable")
    assert response.json["checks"]["database"] == "ok"
    assert "unreachable" in response.json["warnings"]["redis"]
    assert "Retry-After" not in response.headers
    assert elapsed < within(2)


def test_a_hung_redis_does_not_hang_readiness(make_app):
    """Redis accepts the connection and never answers: the socket timeout ends
    the first check, and the next ones do not wait at all."""
    with Blackhole() as hung:
        app = make_app(REDIS_URL=f"redis://127.0.0.1:{hung.port}/0")
        client = app.test_client()
        response, elapsed = timed_get(client, "/readyz")
        again, elapsed_again = timed_get(client, "/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["redis"].startswith("unreachable")
    assert elapsed < within(2, waits=app.config["REDIS_SOCKET_TIMEOUT"])
    assert again.status_code == 200
    assert again.json["checks"]["redis"].startswith("unreachable")
    # No wait at all, on any machine: the open circuit answers at once.
    assert elapsed_again < app.config["REDIS_SOCKET_TIMEOUT"] / 2


def test_a_hung_database_does_not_hang_readiness(standalone_app):
    """The database accepts the connection and never answers: connect_timeout."""
    with Blackhole() as hung:
        app = standalone_app(
            f"postgresql://postgres@127.0.0.1:{hung.port}/test",
            DATABASE_CONNECT_TIMEOUT=2,
        )
        response, elapsed = timed_get(app.test_client(), "/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("unreachable")
    assert elapsed < within(5, waits=app.config["DATABASE_CONNECT_TIMEOUT"])


def _with_misconfigured_captcha(app):
    """A site whose provider refused its secret (as a verification records it)."""
    from factories import make_site

    from commentsvc.captcha import _remember_misconfiguration
    from commentsvc.captcha.result import CaptchaResult, Outcome

    with app.app_context():
        site = make_site()
        result = CaptchaResult(
            provider="hcaptcha",
            outcome=Outcome.MISCONFIGURED,
            error_codes=["invalid-input-secret"],
        )
        _remember_misconfiguration(site, result)


def test_readiness_details_only_for_the_metrics_networks(make_app):
    """Which sites' captcha secret is wrong, whether Redis answers: for the
    operator's probes (METRICS_ALLOW_NETWORKS), a bare status for anyone else."""
    app = make_app(METRICS_ALLOW_NETWORKS="10.1.0.0/16")
    _with_misconfigured_captcha(app)
    client = app.test_client()
    inside = client.get("/readyz", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert inside.status_code == 200
    assert inside.json["warnings"]["captcha_misconfigured"] == {
        "news": ["invalid-input-secret"]
    }
    assert inside.json["checks"] == {"database": "ok", "redis": "ok"}
    for outside in ("203.0.113.9", "127.0.0.1"):
        response = client.get("/readyz", environ_base={"REMOTE_ADDR": outside})
        assert response.status_code == 200
        assert response.json == {"status": "ok"}
    # A forwarded request from the proxy on this host is not the local probe.
    forwarded = client.get(
        "/readyz",
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert forwarded.json == {"status": "ok"}


def test_readiness_for_outsiders_still_says_unavailable(standalone_app):
    app = standalone_app(closed_postgres_url(), UNAVAILABLE_RETRY_AFTER=7)
    response = app.test_client().get(
        "/readyz", environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert response.status_code == 503
    assert response.json == {"status": "unavailable"}
    assert response.headers["Retry-After"] == "7"

"""The database is down: 503 with Retry-After, never a 500, and recovery without
a restart once it is back."""

import pytest
from conftest import BACKENDS, base_config, close_redis_clients
from factories import ORIGIN, comment_payload, make_site
from sqlalchemy.engine import make_url
from tcpproxy import TcpProxy, free_port

from commentsvc import create_app
from commentsvc.extensions import db
from commentsvc.models import Comment

API = "/api/v1/sites/x/comments"


@pytest.fixture
def down_app():
    """An app whose PostgreSQL server is not listening."""
    app = create_app(
        base_config(
            f"postgresql://postgres@127.0.0.1:{free_port()}/test",
            UNAVAILABLE_RETRY_AFTER=11,
        )
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    close_redis_clients(app)


def assert_unavailable_json(response):
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    error = response.json["error"]
    assert error["code"] == "unavailable"
    assert error["message"]
    assert error["fields"] == {}
    assert response.headers["Retry-After"] == "11"


def test_api_read_is_503(down_app):
    response = down_app.test_client().get(f"{API}?thread=/article")
    assert_unavailable_json(response)


def test_api_post_is_503(down_app):
    response = down_app.test_client().post(API, json=comment_payload())
    assert_unavailable_json(response)


def test_the_embed_can_read_the_503_from_another_origin(down_app):
    response = down_app.test_client().post(
        API, json=comment_payload(), headers={"Origin": ORIGIN}
    )
    assert_unavailable_json(response)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    ("method", "path", "options"),
    [
        ("GET", API, {}),
        ("GET", "/api/v1/sites/x/comments?thread=" + "k" * 5000, {}),
        ("POST", API, {"data": "{not json", "content_type": "application/json"}),
        ("POST", API, {"data": "[]", "content_type": "application/json"}),
        ("POST", API, {"data": "body", "content_type": "text/plain"}),
        ("POST", API, {"json": {"body": "x" * 100_000}}),
        ("POST", API, {"json": {"thread": 1, "parent_id": -1}}),
        ("OPTIONS", API, {"headers": {"Origin": "https://evil.example"}}),
        ("PUT", API, {"json": {}}),
        ("GET", "/api/v1/nowhere", {}),
        ("GET", "/", {}),
        ("GET", "/nowhere", {}),
    ],
)
def test_no_request_gets_a_500(down_app, method, path, options):
    response = down_app.test_client().open(path, method=method, **options)
    assert response.status_code < 500 or response.status_code == 503
    if response.status_code == 503:
        assert response.headers["Retry-After"] == "11"


def test_a_page_is_503_html():
    # The demo's front page reads its site from the database.
    app = create_app(
        base_config(
            f"postgresql://postgres@127.0.0.1:{free_port()}/test",
            UNAVAILABLE_RETRY_AFTER=11,
            DEV_DEMO=True,
        )
    )
    try:
        response = app.test_client().get("/")
    finally:
        with app.app_context():
            db.engine.dispose()
        close_redis_clients(app)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "11"
    assert "temporarily unavailable" in response.get_data(as_text=True)


@pytest.mark.postgresql
@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_app_recovers_when_the_database_comes_back(make_app, backend):
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among COMMENTSVC_TEST_BACKENDS")
    direct = make_app()  # the first app is the one the fixture cleans up with
    with direct.app_context():
        make_site()
        url = make_url(db.engine.url)

    with TcpProxy(url.host, url.port or 5432) as proxy:
        app = make_app(
            DATABASE_URL=url.set(port=proxy.port).render_as_string(False),
            UNAVAILABLE_RETRY_AFTER=11,
            DEV_DEMO=True,  # its front page reads the database
        )
        client = app.test_client()
        listing = "/api/v1/sites/news/comments?thread=/article"

        first = client.post("/api/v1/sites/news/comments", json=comment_payload())
        assert first.status_code == 202
        assert client.get(listing).status_code == 200
        assert client.get("/readyz").status_code == 200

        proxy.stop()  # the database goes away, taking its connections with it

        assert_unavailable_json(client.get(listing))
        assert_unavailable_json(
            client.post("/api/v1/sites/news/comments", json=comment_payload())
        )
        assert client.get("/").status_code == 503
        readiness = client.get("/readyz")
        assert readiness.status_code == 503
        assert readiness.json["checks"]["database"].startswith("unreachable")
        assert client.get("/healthz").status_code == 200

        proxy.start()  # ... and comes back on the same address

        posted = client.post(
            "/api/v1/sites/news/comments", json=comment_payload(body="Back again.")
        )
        assert posted.status_code == 202, posted.json
        assert client.get(listing).status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/readyz").status_code == 200

    with direct.app_context():
        bodies = db.session.scalars(db.select(Comment.body).order_by(Comment.id)).all()
        assert bodies == ["A thoughtful comment.", "Back again."]

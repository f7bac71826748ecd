"""The built-in dev provider: explicit opt-in, Google's lifetime and single-use
rules, shared through Redis by every app process."""

import socket
import time

import sqlalchemy as sa
from factories import ORIGIN, comment_payload, make_site
from timing import within

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus

URL = "/api/v1/sites/news/comments"
TOKEN_URL = "/api/v1/sites/news/captcha/dev-token"


def _dev_app(make_app, **config):
    config.setdefault("CAPTCHA_DEV_ENABLED", True)
    app = make_app(**config)
    return app


def _token(client, url=TOKEN_URL):
    response = client.post(url, headers={"Origin": ORIGIN})
    assert response.status_code == 200, response.json
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "no-store" in response.headers["Cache-Control"]
    return response.json


def _post(client, token, **fields):
    return client.post(
        URL,
        json=comment_payload(captcha_token=token, **fields),
        headers={"Origin": ORIGIN},
    )


def _comments():
    db.session.rollback()
    return db.session.scalars(sa.select(Comment)).all()


def test_token_verifies_once(make_app):
    app = _dev_app(make_app)
    client = app.test_client()
    with app.app_context():
        make_site(captcha_provider="dev")
        issued = _token(client)
        assert issued["expires_in"] == 120
        first = _post(client, issued["token"])
        assert first.status_code == 202
        [comment] = _comments()
        assert comment.status == CommentStatus.PENDING
        assert comment.signals["captcha"]["outcome"] == "ok"
        assert comment.signals["captcha"]["provider"] == "dev"

        again = _post(client, issued["token"], body="Another one")
        assert again.status_code == 403
        assert again.json["error"]["code"] == "captcha_expired"
        assert len(_comments()) == 1


def test_token_is_single_use_across_app_processes(make_app):
    # Two apps stand for two processes: they share only the database and Redis.
    first_app = _dev_app(make_app)
    second_app = _dev_app(make_app)
    with first_app.app_context():
        make_site(captcha_provider="dev")
        token = _token(first_app.test_client())["token"]
    assert _post(first_app.test_client(), token).status_code == 202
    refused = _post(second_app.test_client(), token, body="replayed elsewhere")
    assert refused.json["error"]["code"] == "captcha_expired"


def test_token_expires_after_its_lifetime(make_app):
    app = _dev_app(make_app, CAPTCHA_DEV_TOKEN_LIFETIME=1)
    client = app.test_client()
    with app.app_context():
        make_site(captcha_provider="dev")
        token = _token(client)["token"]
        time.sleep(2.1)
        response = _post(client, token)
        assert response.status_code == 403
        assert response.json["error"]["code"] == "captcha_expired"
        assert _comments() == []
        # The embed's next move: a fresh token, the same text.
        assert _post(client, _token(client)["token"]).status_code == 202


def test_forged_or_foreign_tokens_are_invalid(make_app):
    app = _dev_app(make_app)
    client = app.test_client()
    with app.app_context():
        make_site(captcha_provider="dev")
        make_site("other", "Other", captcha_provider="dev")
        foreign = _token(client, "/api/v1/sites/other/captcha/dev-token")["token"]
        for token in ["forged", foreign, foreign[:-2] + "xx"]:
            response = _post(client, token)
            assert response.status_code == 403
            assert response.json["error"]["code"] == "captcha_invalid"
        assert _comments() == []

        other_app = _dev_app(make_app, SECRET_KEY="another-deployment")
        own = _token(client)["token"]
        response = _post(other_app.test_client(), own)
        assert response.json["error"]["code"] == "captcha_invalid"


def test_missing_token_is_invalid(make_app):
    app = _dev_app(make_app)
    with app.app_context():
        make_site(captcha_provider="dev")
        response = _post(app.test_client(), None)
        assert response.status_code == 403
        assert response.json["error"]["code"] == "captcha_invalid"


def test_must_be_enabled_explicitly(make_app):
    app = make_app()  # CAPTCHA_DEV_ENABLED defaults to off
    client = app.test_client()
    with app.app_context():
        make_site(captcha_provider="dev")
        response = client.post(TOKEN_URL, headers={"Origin": ORIGIN})
        assert response.status_code == 404
        assert response.json["error"]["code"] == "captcha_unavailable"
        # A site left on the dev provider in production still never loses a
        # comment: it is held, marked unverified.
        response = _post(client, "whatever")
        assert response.status_code == 202
        [comment] = _comments()
        assert comment.signals["captcha"]["outcome"] == "misconfigured"


def test_token_endpoint_only_for_dev_sites(make_app):
    app = _dev_app(make_app)
    with app.app_context():
        make_site(captcha_provider="recaptcha_v2")
        response = app.test_client().post(TOKEN_URL)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "captcha_unavailable"
        response = app.test_client().post(
            TOKEN_URL, headers={"Origin": "https://x.example"}
        )
        assert response.json["error"]["code"] == "origin_not_allowed"


def test_redis_down_holds_the_comment_unverified(make_app):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    issuing = _dev_app(make_app)
    down = _dev_app(make_app, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    with issuing.app_context():
        make_site(captcha_provider="dev")
        token = _token(issuing.test_client())["token"]
    started = time.monotonic()
    response = _post(down.test_client(), token)
    assert time.monotonic() - started < within(
        3, waits=down.config["REDIS_SOCKET_TIMEOUT"]
    )
    assert response.status_code == 202
    with issuing.app_context():
        [comment] = _comments()
        assert comment.status == CommentStatus.PENDING
        assert "redis unreachable" in comment.signals["captcha_unverified"]

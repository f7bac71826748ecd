"""``flask --app wsgi webhooks ...``: add, list, rotate-secret, ping, redeliver,
disable, enable, deliveries and ``worker --once``."""

import re

import pytest
import sqlalchemy as sa
from factories import make_comment

from commentsvc.extensions import db
from commentsvc.models import DeliveryStatus, WebhookEndpoint

from .conftest import deliveries, run_worker


@pytest.fixture
def invoke(runner):
    def invoke(*args, input=None):
        return runner.invoke(args=["webhooks", *args], input=input)

    return invoke


def secret_in(output: str) -> str:
    return re.search(r"(whsec_[A-Za-z0-9+/=]+)", output).group(1)


def test_add_prints_the_secret_once(app, site, receiver, invoke):
    result = invoke(
        "add", "news", receiver.url, "--events", "comment.created,comment.approved"
    )
    assert result.exit_code == 0, result.output
    secret = secret_in(result.output)
    assert "shown only now" in result.output
    with app.app_context():
        endpoint = db.session.scalar(sa.select(WebhookEndpoint))
        assert endpoint.secret == secret
        assert endpoint.events == ["comment.created", "comment.approved"]
    listing = invoke("list")
    assert listing.exit_code == 0
    assert receiver.url in listing.output
    assert "events=comment.created,comment.approved" in listing.output
    assert "whsec_" not in listing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["news", "http://10.0.0.1/hook"], "10.0.0.1 is a private address"),
        (["news", "http://2130706433/hook"], "neither a host name"),
        (["news", "gopher://example.com/"], "only http and https"),
        (["nope", "https://example.com/"], "there is no site 'nope'"),
        (["news", "https://example.com/", "--events", "comment.eaten"], "Unknown"),
    ],
)
def test_add_refuses_what_it_cannot_send_to(site, invoke, args, message):
    result = invoke("add", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_rotate_secret_prints_the_new_one(app, site, receiver, invoke):
    old = secret_in(invoke("add", "news", receiver.url).output)
    with app.app_context():
        endpoint_id = db.session.scalar(sa.select(WebhookEndpoint.id))
    result = invoke("rotate-secret", str(endpoint_id))
    assert result.exit_code == 0, result.output
    new = secret_in(result.output)
    assert new != old
    assert "keeps signing beside it until" in result.output
    assert invoke("rotate-secret", "999999").exit_code == 1


def test_ping_worker_deliveries_redeliver(app, site, receiver, invoke):
    receiver.secrets.append(secret_in(invoke("add", "news", receiver.url).output))
    with app.app_context():
        endpoint_id = db.session.scalar(sa.select(WebhookEndpoint.id))

    result = invoke("ping", str(endpoint_id))
    assert result.exit_code == 0, result.output
    assert "queued ping" in result.output

    result = invoke("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "1 attempts, 1 delivered" in result.output
    [ping] = receiver.requests()
    assert ping.payload["type"] == "ping"
    assert ping.verified_with == receiver.secrets

    [delivery] = deliveries(app)
    log = invoke("deliveries", str(endpoint_id))
    assert f"{delivery.id}\tping\tsucceeded\tattempts=1\tlast=200 in" in log.output

    result = invoke("redeliver", str(delivery.id))
    assert result.exit_code == 0, result.output
    assert deliveries(app)[0].status == DeliveryStatus.PENDING
    run_worker(app)
    assert [r.message_id for r in receiver.requests()] == [delivery.message_id] * 2
    assert invoke("redeliver", "999999").exit_code == 1


def test_disable_and_enable(app, site, receiver, invoke):
    invoke("add", "news", receiver.url)
    with app.app_context():
        endpoint_id = db.session.scalar(sa.select(WebhookEndpoint.id))
        make_comment(site)
    result = invoke("disable", str(endpoint_id), "--reason", "Site closed.")
    assert result.exit_code == 0
    assert "DISABLED (Site closed.)" in invoke("list").output
    assert [d.status for d in deliveries(app)] == [DeliveryStatus.FAILED]
    refused = invoke("ping", str(endpoint_id))
    assert refused.exit_code == 1
    assert "enable it first" in refused.output

    assert invoke("enable", str(endpoint_id)).exit_code == 0
    assert "\tenabled\t" in invoke("list").output
    assert invoke("redeliver", str(deliveries(app)[0].id)).exit_code == 0
    run_worker(app)
    assert len(receiver.requests()) == 1


def test_worker_refuses_a_lease_shorter_than_the_timeout(make_app):
    app = make_app(WEBHOOK_TIMEOUT=30, WEBHOOK_LEASE_SECONDS=10)
    result = app.test_cli_runner().invoke(args=["webhooks", "worker", "--once"])
    assert result.exit_code == 1
    assert "WEBHOOK_LEASE_SECONDS must be longer" in result.output


def test_worker_refuses_a_lease_shorter_than_the_attempt_deadline(make_app):
    app = make_app(
        WEBHOOK_TIMEOUT=5, WEBHOOK_ATTEMPT_DEADLINE=30, WEBHOOK_LEASE_SECONDS=20
    )
    result = app.test_cli_runner().invoke(args=["webhooks", "worker", "--once"])
    assert result.exit_code == 1
    assert "WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_ATTEMPT_DEADLINE" in (
        result.output
    )

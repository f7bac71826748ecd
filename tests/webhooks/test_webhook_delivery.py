"""Delivery to a real local receiver that verifies Standard Webhooks signatures:
signing, retries with the same webhook-id, backoff, Retry-After, 410, redirects,
timeouts, giving up, disabling after days of failures, secret rotation."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from factories import make_comment
from timing import within

from commentsvc.extensions import db
from commentsvc.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookEndpoint,
    as_utc,
    utcnow,
)
from commentsvc.webhooks import endpoints
from commentsvc.webhooks.outbox import record_comment_event
from commentsvc.webhooks.signing import signature

from .conftest import add_endpoint, deliveries, make_due, run_worker
from .receiver import Answer, Receiver


def post_comment(app, site, **fields):
    with app.app_context():
        return make_comment(site, **fields).id


def attempts(app) -> list[WebhookAttempt]:
    with app.app_context():
        return list(
            db.session.scalars(sa.select(WebhookAttempt).order_by(WebhookAttempt.id))
        )


def endpoint_row(app, endpoint_id) -> WebhookEndpoint:
    with app.app_context():
        return db.session.get(WebhookEndpoint, endpoint_id)


def test_a_new_comment_reaches_the_receiver_signed(app, site, receiver, endpoint):
    comment_id = post_comment(
        app, site, email="ann@example.org", title="Big news", parent_id=None
    )

    stats = run_worker(app)

    assert stats.succeeded == 1
    [request] = receiver.requests()
    assert request.verified_with == receiver.secrets
    assert request.headers["content-type"] == "application/json"
    body = request.payload
    assert body["type"] == "comment.created"
    assert body["timestamp"].endswith("Z")
    comment = body["data"]["comment"]
    assert comment["id"] == comment_id
    assert comment["status"] == "pending"
    assert comment["email"] == "ann@example.org"
    assert body["data"]["thread"]["key"] == "/article"
    assert body["data"]["site"] == "news"
    # Never the reader's IP address (make_comment posts from 192.0.2.1).
    assert "192.0.2.1" not in request.body.decode()
    assert "ip" not in comment
    [delivery] = deliveries(app)
    assert request.message_id == delivery.message_id
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    [attempt] = attempts(app)
    assert (attempt.status_code, attempt.response_excerpt) == (200, "ok")
    assert attempt.latency_ms is not None and attempt.latency_ms >= 0


def test_status_changes_are_delivered_as_their_events(app, site, receiver, endpoint):
    with app.app_context():
        comment = make_comment(site)
        record_comment_event(comment, "comment.approved")
        db.session.commit()
    run_worker(app)
    types = sorted(r.payload["type"] for r in receiver.requests())
    assert types == ["comment.approved", "comment.created"]
    assert all(r.verified_with for r in receiver.requests())


def test_a_failing_receiver_gets_the_event_again_with_the_same_id(app, site):
    answers = [Answer(500, body="boom"), Answer(502), Answer(204, body="")]
    with Receiver(answer=lambda n, _: answers[min(n, 2)]) as receiver:
        endpoint_id, secret = add_endpoint(app, receiver.url)
        receiver.secrets.append(secret)
        post_comment(app, site)

        run_worker(app)
        [delivery] = deliveries(app)
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == 1
        assert delivery.last_status_code == 500
        first = attempts(app)[0]
        wait = as_utc(delivery.next_attempt_at) - as_utc(first.attempted_at)
        assert timedelta(seconds=4) <= wait <= timedelta(seconds=6)  # ~5 s, jittered
        assert endpoint_row(app, endpoint_id).failing_since is not None

        run_worker(app)  # not due yet: nothing is sent
        assert len(receiver.requests()) == 1

        make_due(app)
        run_worker(app)
        [delivery] = deliveries(app)
        second = attempts(app)[1]
        wait = as_utc(delivery.next_attempt_at) - as_utc(second.attempted_at)
        assert timedelta(minutes=4) <= wait <= timedelta(minutes=6)  # ~5 min

        make_due(app)
        run_worker(app)

    requests = receiver.requests()
    assert len(requests) == 3
    assert len({r.message_id for r in requests}) == 1
    assert all(r.verified_with == [secret] for r in requests)
    assert len({r.body for r in requests}) == 1
    [delivery] = deliveries(app)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 3
    assert [a.status_code for a in attempts(app)] == [500, 502, 204]
    assert attempts(app)[0].response_excerpt == "boom"
    assert endpoint_row(app, endpoint_id).failing_since is None


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(app, site, status):
    answer = Answer(status, headers={"Retry-After": "120"})
    with Receiver(answer=lambda n, _: answer) as receiver:
        add_endpoint(app, receiver.url)
        post_comment(app, site)
        run_worker(app)
    [delivery] = deliveries(app)
    [attempt] = attempts(app)
    wait = as_utc(delivery.next_attempt_at) - as_utc(attempt.attempted_at)
    assert wait == timedelta(seconds=120)
    assert delivery.status == DeliveryStatus.PENDING


def test_retry_after_as_an_http_date(app, site):
    later = datetime.now(UTC) + timedelta(minutes=10)
    http_date = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    answer = Answer(503, headers={"Retry-After": http_date})
    with Receiver(answer=lambda n, _: answer) as receiver:
        add_endpoint(app, receiver.url)
        post_comment(app, site)
        run_worker(app)
    [delivery] = deliveries(app)
    wait = as_utc(delivery.next_attempt_at) - utcnow()
    assert timedelta(minutes=9) <= wait <= timedelta(minutes=10)


def test_410_gone_disables_the_endpoint(app, site):
    with Receiver(answer=lambda n, _: Answer(410, body="gone")) as receiver:
        endpoint_id, _ = add_endpoint(app, receiver.url)
        post_comment(app, site)
        post_comment(app, site)
        run_worker(app, batch_size=1)
        assert len(receiver.requests()) == 1
        endpoint = endpoint_row(app, endpoint_id)
        assert not endpoint.enabled
        assert "410" in endpoint.disabled_reason
        # Its other pending delivery failed; new events skip it.
        assert [d.status for d in deliveries(app)] == [DeliveryStatus.FAILED] * 2
        post_comment(app, site)
        assert len(deliveries(app)) == 2
        run_worker(app)
        assert len(receiver.requests()) == 1


def test_five_days_of_failures_disable_the_endpoint(app, site):
    with Receiver(answer=lambda n, _: Answer(500)) as receiver:
        endpoint_id, _ = add_endpoint(app, receiver.url)
        with app.app_context():
            endpoint = db.session.get(WebhookEndpoint, endpoint_id)
            endpoint.failing_since = utcnow() - timedelta(days=4, hours=23)
            db.session.commit()
        post_comment(app, site)
        run_worker(app)
        assert endpoint_row(app, endpoint_id).enabled  # not five days yet

        with app.app_context():
            endpoint = db.session.get(WebhookEndpoint, endpoint_id)
            endpoint.failing_since = utcnow() - timedelta(days=5, minutes=1)
            db.session.commit()
        make_due(app)
        run_worker(app)
    endpoint = endpoint_row(app, endpoint_id)
    assert not endpoint.enabled
    assert "5 days" in endpoint.disabled_reason
    assert [d.status for d in deliveries(app)] == [DeliveryStatus.FAILED]


def test_redirects_are_not_followed(app, site):
    def answer(n, received):
        if received.path == "/hooks/comments":
            return Answer(302, headers={"Location": "/elsewhere"})
        return Answer(200)

    with Receiver(answer=answer) as receiver:
        add_endpoint(app, receiver.url)
        post_comment(app, site)
        run_worker(app)
    assert [r.path for r in receiver.requests()] == ["/hooks/comments"]
    [delivery] = deliveries(app)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code == 302
    assert "redirect to /elsewhere not followed" in delivery.last_error


def test_a_slow_receiver_times_out(make_app, site):
    with Receiver(
        answer=lambda n, _: Answer(200, delay=within(1.4, waits=0.3) + 1)
    ) as receiver:
        app = make_app(WEBHOOK_ALLOW_PRIVATE_NETWORKS="127.0.0.1", WEBHOOK_TIMEOUT=0.3)
        add_endpoint(app, receiver.url)
        post_comment(app, site)
        run_worker(app)
    [attempt] = attempts(app)
    assert attempt.status_code is None
    assert attempt.error == "timed out waiting for the answer"
    assert attempt.latency_ms < within(1.4, waits=app.config["WEBHOOK_TIMEOUT"]) * 1000
    assert deliveries(app)[0].status == DeliveryStatus.PENDING


def test_an_unreachable_endpoint_is_retried(app, site):
    from tcpproxy import free_port

    add_endpoint(app, f"http://127.0.0.1:{free_port()}/hook")
    post_comment(app, site)
    run_worker(app)
    [attempt] = attempts(app)
    assert attempt.error.startswith("could not connect (")
    assert "refused" in attempt.error
    assert deliveries(app)[0].status == DeliveryStatus.PENDING


def test_it_gives_up_after_the_last_retry(make_app, site):
    app = make_app(
        WEBHOOK_ALLOW_PRIVATE_NETWORKS="127.0.0.1/32", WEBHOOK_RETRY_DELAYS="0,0"
    )
    with Receiver(answer=lambda n, _: Answer(500)) as receiver:
        add_endpoint(app, receiver.url)
        post_comment(app, site)
        stats = run_worker(app)
    assert len(receiver.requests()) == 3  # the first attempt and two retries
    assert (stats.attempts, stats.retrying, stats.failed) == (3, 2, 1)
    [delivery] = deliveries(app)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3


def test_endpoints_get_only_the_events_they_chose(app, site, receiver):
    add_endpoint(app, receiver.url, events=["comment.approved"])
    post_comment(app, site)
    assert deliveries(app) == []


def test_a_rotated_secret_keeps_signing_beside_the_new_one(app, site, receiver):
    endpoint_id, old = add_endpoint(app, receiver.url)
    with app.app_context():
        new = endpoints.rotate_secret(endpoint_id)
    receiver.secrets.extend([old, new])
    post_comment(app, site)
    run_worker(app)
    [request] = receiver.requests()
    assert len(request.signatures) == 2
    assert all(s.startswith("v1,") for s in request.signatures)
    assert request.verified_with == [old, new]

    # 24 hours later only the new secret signs.
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        expires = as_utc(endpoint.previous_secret_expires_at)
        assert (
            timedelta(hours=23, minutes=59) < expires - utcnow() <= timedelta(hours=24)
        )
        endpoint.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    post_comment(app, site)
    run_worker(app)
    latest = receiver.requests()[-1]
    assert len(latest.signatures) == 1
    assert latest.verified_with == [new]


def test_signatures_do_not_depend_on_the_timezone_given():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps({"type": "ping"})
    utc = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    paris = utc.astimezone(timezone(timedelta(hours=1)))
    assert signature([secret], "msg_1", paris, body) == signature(
        [secret], "msg_1", utc, body
    )

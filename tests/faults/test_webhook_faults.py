"""Webhook faults end to end, with real worker processes: a receiver that is
down gets the event on a later attempt, with the same webhook-id; a worker
killed while readers post loses no event (tests/webhooks/
test_webhook_worker_process.py kills one mid-batch on a fixed queue; here the
queue grows under posts through gunicorn while it dies)."""

import collections
import signal
import threading

import sqlalchemy as sa
from factories import comment_payload, make_site
from servers import Gunicorn, wait_until
from tcpproxy import TcpProxy
from webhooks.conftest import LOOPBACK
from webhooks.receiver import Answer, Receiver
from webhooks.test_webhook_worker_process import WorkerProcess, worker_env

from commentsvc.extensions import db
from commentsvc.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from commentsvc.webhooks import endpoints
from commentsvc.webhooks.outbox import COMMENT_CREATED

from .conftest import POST, Traffic, process_env, stored

# Fast retries (jittered ±20 %), enough of them never to give up in a test.
RETRY_DELAYS = ",".join(["0.3"] * 30)


def _deliveries(app) -> list:
    """Every delivery as a row of plain values, oldest first."""
    with app.app_context():
        return db.session.execute(
            sa.select(
                WebhookDelivery.id,
                WebhookDelivery.message_id,
                WebhookDelivery.status,
                WebhookDelivery.attempts,
            ).order_by(WebhookDelivery.id)
        ).all()


def _attempts(app, delivery_id: int) -> list:
    """A delivery's attempts as rows of plain values, in order."""
    with app.app_context():
        return db.session.execute(
            sa.select(WebhookAttempt.status_code, WebhookAttempt.error)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        ).all()


def _all_succeeded(app, count: int) -> bool:
    found = _deliveries(app)
    return len(found) == count and all(
        d.status == DeliveryStatus.SUCCEEDED for d in found
    )


def test_a_receiver_down_gets_the_event_on_a_later_attempt(fault_app, tmp_path):
    # Back up, the receiver first answers 503 (it is still starting), then 200.
    def answer(n, received):
        return Answer(503 if n == 0 else 200)

    with Receiver(answer=answer) as receiver:
        # The endpoint's address: a forwarder to the receiver, stopped for now,
        # so connections are refused as by a server that is down.
        proxy = TcpProxy("127.0.0.1", receiver.port)
        app = fault_app(WEBHOOK_ALLOW_PRIVATE_NETWORKS=LOOPBACK)
        with app.app_context():
            make_site()
            url = f"http://127.0.0.1:{proxy.port}/hooks/comments"
            _, secret = endpoints.add_endpoint("news", url)
        receiver.secrets.append(secret)
        posted = app.test_client().post(POST, json=comment_payload())
        assert posted.status_code == 202
        [delivery] = _deliveries(app)

        worker = WorkerProcess(
            worker_env(app, RETRY_DELAYS=RETRY_DELAYS, TIMEOUT=2),
            log_path=tmp_path / "worker.log",
        )
        try:
            wait_until(lambda: len(_attempts(app, delivery.id)) >= 2, timeout=15)
            assert receiver.requests() == []
            with proxy:  # the receiver is back
                wait_until(
                    lambda: _deliveries(app)[0].status == DeliveryStatus.SUCCEEDED,
                    timeout=15,
                )
        finally:
            assert worker.stop() == 0, worker.output()

    attempts = _attempts(app, delivery.id)
    refused, answered = attempts[:-2], attempts[-2:]
    assert len(refused) >= 2
    assert all(a.status_code is None and a.error for a in refused)
    assert [a.status_code for a in answered] == [503, 200]
    [done] = _deliveries(app)
    assert done.attempts == len(attempts)
    # What arrived: the same message twice (the 503, then the 200), with the
    # delivery's webhook-id, signed, about the comment posted.
    requests = receiver.requests()
    assert [r.message_id for r in requests] == [delivery.message_id] * 2
    assert all(r.verified_with == [secret] for r in requests)
    assert requests[0].body == requests[1].body
    assert requests[0].payload["type"] == COMMENT_CREATED
    assert requests[0].payload["data"]["comment"]["id"] == posted.get_json()["id"]


def test_a_worker_killed_while_readers_post_loses_no_event(fault_app, tmp_path):
    hung = threading.Event()

    def answer(n, received):
        # The 31st request hangs until the worker sending it is dead: it dies
        # with a batch sent but not recorded.
        if n == 30:
            hung.wait(10)
        return Answer(200, delay=0.01)

    with Receiver(answer=answer) as receiver:
        app = fault_app(WEBHOOK_ALLOW_PRIVATE_NETWORKS=LOOPBACK)
        with app.app_context():
            make_site()
            _, secret = endpoints.add_endpoint("news", receiver.url)
        receiver.secrets.append(secret)
        env = worker_env(app, BATCH_SIZE=10, CONCURRENCY=5, TIMEOUT=1, LEASE_SECONDS=3)
        second = None
        try:
            with (
                Gunicorn(process_env(app), workers=2, threads=4) as server,
                Traffic(server.url, posters=6, readers=0) as traffic,
            ):
                first = WorkerProcess(env, log_path=tmp_path / "first.log")
                try:
                    wait_until(lambda: len(receiver.requests()) > 30, timeout=30)
                finally:
                    first.kill()
                hung.set()
                killed_at = traffic.count(202)
                # Readers go on posting with no worker running...
                traffic.wait_for(202, killed_at + 30)
                second = WorkerProcess(env, log_path=tmp_path / "second.log")
                # ... and while the second one catches up.
                traffic.wait_for(202, killed_at + 60)
            accepted = {r.body["id"] for r in traffic.since() if r.status == 202}
            # Recorded as delivered, not merely received: what the killed worker
            # sent but never recorded is sent again once its lease runs out.
            wait_until(lambda: _all_succeeded(app, len(accepted)), timeout=30)
        finally:
            if second is not None:
                assert second.stop() == 0, second.output()

    assert first.process.returncode == -signal.SIGKILL
    assert {r.status for r in traffic.since()} == {202}
    assert set(stored(app).comment_ids) == accepted
    # Every comment's event arrived; what the killed worker had sent but not
    # recorded went out again with the same webhook-id: at least once.
    requests = receiver.requests()
    assert {r.payload["data"]["comment"]["id"] for r in requests} == accepted
    counts = collections.Counter(r.message_id for r in requests)
    assert len(counts) == len(accepted)
    assert max(counts.values()) > 1
    assert all(r.verified_with == [secret] for r in requests)

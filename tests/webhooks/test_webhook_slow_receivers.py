"""Receivers that answer one byte a second (issue 15, item 2): an attempt ends at
its deadline however the answer trickles, a slow endpoint never holds up another
site's deliveries, and SIGTERM ends the worker within the deadline with the
delivery kept for the next run. requests/urllib3 timeouts bound each socket read,
not the attempt, so each of these waited as long as the receiver liked before."""

import signal
import subprocess
import threading
import time

import pytest
import sqlalchemy as sa
from factories import make_comment, make_site
from servers import wait_until

from commentsvc.extensions import db
from commentsvc.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, as_utc

from .conftest import LOOPBACK, add_endpoint, deliveries, make_due, run_worker
from .drip import DripReceiver
from .receiver import Receiver
from .test_webhook_worker_process import WorkerProcess, worker_env

# Time on top of a deadline for a loaded two-core machine: process start-up,
# a wake-up, the database.
SLACK = 4.0
# Longer than the drip's one second between bytes: no single read times out.
READ_TIMEOUT = 2.5


def _attempts(app, endpoint_id=None) -> list:
    with app.app_context():
        query = sa.select(
            WebhookAttempt.status_code,
            WebhookAttempt.error,
            WebhookAttempt.latency_ms,
            WebhookAttempt.attempted_at,
        ).order_by(WebhookAttempt.id)
        if endpoint_id is not None:
            query = query.join(
                WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id
            ).where(WebhookDelivery.endpoint_id == endpoint_id)
        return db.session.execute(query).all()


def _run_worker_within(app, seconds: float, receiver: DripReceiver):
    """``run_worker(app)`` in a thread: its Stats. Past *seconds* (a deadline
    that did not end the attempt) the test fails at once: the receiver stops
    dripping, which ends the worker's wait too, so a broken deadline fails in
    seconds, not after the drip's ten minutes."""
    outcome = {}

    def work():
        try:
            outcome["stats"] = run_worker(app)
        except BaseException as error:  # reported in the test's thread
            outcome["error"] = error

    # A daemon: a worker that never returns never holds up pytest's exit.
    worker = threading.Thread(target=work, name="webhook-worker", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        receiver.closing.set()
        worker.join(SLACK)  # let it leave the database before the clean-up
        pytest.fail(
            f"the attempt was still running after {seconds:g} s: "
            "its deadline did not end it"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["stats"]


def _slow_app(make_app, deadline: float):
    app = make_app(
        WEBHOOK_ALLOW_PRIVATE_NETWORKS=LOOPBACK,
        WEBHOOK_TIMEOUT=READ_TIMEOUT,
        WEBHOOK_ATTEMPT_DEADLINE=deadline,
    )
    with app.app_context():
        site = make_site()
        return app, site


def test_an_answer_trickled_from_its_status_line_fails_at_the_deadline(make_app):
    deadline = 2.0
    app, site = _slow_app(make_app, deadline)
    with DripReceiver(part="headers") as receiver:
        add_endpoint(app, receiver.url)
        with app.app_context():
            make_comment(site)
        [delivery] = deliveries(app)
        started = time.monotonic()
        stats = _run_worker_within(app, deadline + SLACK, receiver)
        took = time.monotonic() - started

        assert (stats.attempts, stats.retrying) == (1, 1)
        assert took >= deadline * 0.9
        [attempt] = _attempts(app)
        assert attempt.status_code is None
        assert attempt.error == f"timed out: no complete answer within {deadline:g} s"
        assert deadline * 1000 * 0.9 <= attempt.latency_ms < (deadline + SLACK) * 1000
        # A failed attempt like any other: retried after the first delay (~5 s).
        [waiting] = deliveries(app)
        assert waiting.status == DeliveryStatus.PENDING
        assert waiting.attempts == 1
        assert waiting.locked_until is None
        wait = as_utc(waiting.next_attempt_at) - as_utc(attempt.attempted_at)
        assert 4 <= wait.total_seconds() <= 6

        receiver.dripping.clear()  # the receiver recovers
        make_due(app)
        assert run_worker(app).succeeded == 1
    assert receiver.ids == [delivery.message_id] * 2
    assert deliveries(app)[0].status == DeliveryStatus.SUCCEEDED


def test_a_body_trickled_after_a_200_is_cut_at_the_deadline(make_app):
    deadline = 2.0
    app, site = _slow_app(make_app, deadline)
    with DripReceiver(part="body") as receiver:
        add_endpoint(app, receiver.url)
        with app.app_context():
            make_comment(site)
        started = time.monotonic()
        stats = _run_worker_within(app, deadline + SLACK, receiver)
        took = time.monotonic() - started
    assert took >= deadline * 0.9
    # The status line is the receiver's verdict: it took the event, however
    # its body ends, so the event is not sent again.
    assert stats.succeeded == 1
    [attempt] = _attempts(app)
    assert attempt.status_code == 200
    assert attempt.error == f"timed out: no complete answer within {deadline:g} s"
    assert attempt.latency_ms < (deadline + SLACK) * 1000
    assert len(receiver.ids) == 1
    assert deliveries(app)[0].status == DeliveryStatus.SUCCEEDED


def test_a_slow_endpoint_never_holds_up_another_sites_deliveries(app, tmp_path):
    deadline = 8.0
    with app.app_context():
        news = make_site("news")
        blog = make_site("blog", name="Example Blog")
    with DripReceiver() as slow, Receiver() as fast:
        slow_id, _ = add_endpoint(app, slow.url, site="news")
        add_endpoint(app, fast.url, site="blog")
        with app.app_context():
            for _ in range(4):  # more than the worker sends at once
                make_comment(news)
        env = worker_env(
            app,
            CONCURRENCY=3,
            TIMEOUT=READ_TIMEOUT,
            ATTEMPT_DEADLINE=deadline,
            LEASE_SECONDS=30,
            RETRY_DELAYS=600,
        )
        worker = WorkerProcess(env, log_path=tmp_path / "worker.log")
        try:
            wait_until(lambda: slow.count() >= 1, timeout=30)
            with app.app_context():
                for _ in range(3):
                    make_comment(blog)
            # Well within the slow endpoint's deadline: its attempts are still
            # hanging while the other site's events arrive.
            wait_until(lambda: len(fast.requests()) == 3, timeout=deadline / 2)
            assert _attempts(app, slow_id) == []
            assert slow.count() < 4  # it never had every send of the worker
            wait_until(
                lambda: (
                    sum(d.status == DeliveryStatus.SUCCEEDED for d in deliveries(app))
                    == 3
                ),
                timeout=deadline / 2,
            )
        finally:
            assert worker.stop() == 0, worker.output()
    by_endpoint = {
        d.endpoint_id for d in deliveries(app) if d.status == DeliveryStatus.PENDING
    }
    assert by_endpoint == {slow_id}


def test_sigterm_ends_the_worker_within_the_deadline_and_keeps_the_delivery(
    app, site, tmp_path
):
    deadline = 3.0
    with DripReceiver() as receiver:
        add_endpoint(app, receiver.url)
        with app.app_context():
            make_comment(site)
        [delivery] = deliveries(app)
        env = worker_env(
            app,
            TIMEOUT=READ_TIMEOUT,
            ATTEMPT_DEADLINE=deadline,
            RETRY_DELAYS="0.5,0.5,0.5",
        )
        first = WorkerProcess(env, log_path=tmp_path / "first.log")
        wait_until(lambda: receiver.count() == 1, timeout=30)
        signalled = time.monotonic()
        first.process.send_signal(signal.SIGTERM)
        try:
            code = first.process.wait(deadline + SLACK)
        except subprocess.TimeoutExpired:
            code = None  # before the fix: still waiting for the drip
            first.kill()
        else:
            first.stop()  # it has exited: this closes its log
        took = time.monotonic() - signalled
        assert code == 0, first.output()
        assert took < deadline + SLACK
        assert "1 attempts, 0 delivered, 1 to retry" in first.output()

        # Not lost: still pending, and the next run delivers it.
        [kept] = deliveries(app)
        assert kept.status == DeliveryStatus.PENDING
        receiver.dripping.clear()
        second = WorkerProcess(env, log_path=tmp_path / "second.log")
        try:
            wait_until(
                lambda: deliveries(app)[0].status == DeliveryStatus.SUCCEEDED,
                timeout=30,
            )
        finally:
            assert second.stop() == 0, second.output()
    assert receiver.ids == [delivery.message_id] * 2
    assert [a.status_code for a in _attempts(app)] == [None, 200]

"""The real worker process, ``flask --app wsgi webhooks worker``: killed with
SIGKILL mid-batch and restarted it loses nothing; two of them never send the
same delivery twice; Redis wakes it, and without Redis it still delivers."""

import collections
import re
import signal
import subprocess
import sys
import threading
import time

import redis
import sqlalchemy as sa
from factories import make_comment, make_site
from servers import ROOT, RedisServer, app_environment, wait_until
from timing import generous, within

from commentsvc.extensions import db
from commentsvc.models import DeliveryStatus, WebhookAttempt
from commentsvc.webhooks.wake import channel

from .conftest import LOOPBACK, add_endpoint, deliveries
from .receiver import Answer, Receiver

WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "worker"]


def worker_env(app, **settings) -> dict:
    """The app's settings for another process, plus WEBHOOK_* ones."""
    env = app_environment(app)
    env["COMMENTSVC_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = LOOPBACK
    env["COMMENTSVC_WEBHOOK_POLL_INTERVAL"] = "0.2"
    for name, value in settings.items():
        env[f"COMMENTSVC_WEBHOOK_{name}"] = str(value)
    return env


class WorkerProcess:
    def __init__(self, env, *args, log_path):
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*WORKER, *args], cwd=ROOT, env=env, stdout=self.log, stderr=self.log
        )
        self.log_path = log_path

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self) -> int:
        """SIGTERM: the worker finishes its batch and exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.log.close()


def all_delivered(app) -> bool:
    return all(d.status == DeliveryStatus.SUCCEEDED for d in deliveries(app))


def test_a_worker_killed_mid_batch_loses_no_event(app, site, tmp_path):
    total = 60
    hang = threading.Event()

    def answer(n, received):
        if n == 24:  # the 25th request hangs, its batch half answered
            hang.wait(generous(10))
        return Answer(200, delay=0.01)

    with Receiver(answer=answer) as receiver:
        _, secret = add_endpoint(app, receiver.url)
        receiver.secrets.append(secret)
        with app.app_context():
            for _ in range(total):
                make_comment(site)
        expected = {d.message_id for d in deliveries(app)}
        assert len(expected) == total
        env = worker_env(app, BATCH_SIZE=10, CONCURRENCY=5, TIMEOUT=1, LEASE_SECONDS=3)

        first = WorkerProcess(env, log_path=tmp_path / "first.log")
        try:
            wait_until(lambda: len(receiver.requests()) >= 25, timeout=30)
        finally:
            first.kill()
        hang.set()
        assert first.process.returncode == -signal.SIGKILL
        seen_before_restart = len(receiver.requests())
        assert seen_before_restart < total
        assert not all_delivered(app)

        second = WorkerProcess(env, log_path=tmp_path / "second.log")
        try:
            wait_until(lambda: all_delivered(app), timeout=30, interval=0.1)
        finally:
            assert second.stop() == 0, second.output()

    ids = receiver.ids()
    assert set(ids) == expected  # no gap
    # What the killed worker had sent but not recorded went out again, with
    # the same webhook-id: at least once.
    duplicates = [i for i, count in collections.Counter(ids).items() if count > 1]
    assert duplicates
    assert all(r.verified_with == [secret] for r in receiver.requests())


def test_two_workers_never_send_the_same_delivery_twice(app, site, tmp_path):
    total = 150
    concurrency = 5
    # What one worker sends to one endpoint at once (half its concurrency,
    # rounded up: see WorkerSettings.per_endpoint).
    one_worker = (concurrency + 1) // 2
    both_sending = threading.Event()
    state = {"in_flight": 0}
    lock = threading.Lock()

    def answer(n, received):
        # More requests in flight than one worker makes to an endpoint at once:
        # both are sending, and claiming, at the same time. Until then the
        # first worker's requests wait here, so the second one, however slow
        # to start, finds work left.
        with lock:
            state["in_flight"] += 1
            if state["in_flight"] > one_worker:
                both_sending.set()
        both_sending.wait(generous(10))
        with lock:
            state["in_flight"] -= 1
        return Answer(200, delay=0.005)

    with Receiver(answer=answer) as receiver:
        add_endpoint(app, receiver.url)
        with app.app_context():
            for _ in range(total):
                make_comment(site)
        # No attempt may reach its deadline while it waits for the second
        # worker: a cut attempt is retried, and counted twice.
        deadline = generous(10) + 30
        env = worker_env(
            app,
            BATCH_SIZE=10,
            CONCURRENCY=concurrency,
            TIMEOUT=deadline,
            LEASE_SECONDS=int(deadline) + 30,
        )
        workers = [
            WorkerProcess(env, "--once", log_path=tmp_path / f"worker{n}.log")
            for n in (1, 2)
        ]
        try:
            for worker in workers:
                worker.process.wait(60 + deadline)
        finally:
            codes = [worker.stop() for worker in workers]
    outputs = [worker.output() for worker in workers]
    assert codes == [0, 0], outputs
    assert both_sending.is_set()
    sent = [int(re.search(r"(\d+) attempts", out).group(1)) for out in outputs]
    assert sum(sent) == total
    assert all(n > 0 for n in sent), sent

    counts = collections.Counter(receiver.ids())
    assert len(counts) == total
    assert set(counts.values()) == {1}
    assert all_delivered(app)
    with app.app_context():
        attempts = db.session.scalar(sa.select(sa.func.count(WebhookAttempt.id)))
    assert attempts == total


def test_redis_wakes_an_idle_worker(app, site, receiver, endpoint, tmp_path):
    worker = WorkerProcess(
        worker_env(app, POLL_INTERVAL=60), log_path=tmp_path / "worker.log"
    )
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    try:
        with app.app_context():
            name = channel()
        wait_until(lambda: client.pubsub_numsub(name)[0][1] >= 1, timeout=30)
        started = time.monotonic()
        with app.app_context():
            make_comment(site)  # commits, then publishes the wake-up
        wait_until(lambda: len(receiver.requests()) == 1, timeout=generous(10))
        # Far sooner than the 60 s poll.
        assert time.monotonic() - started < within(5)
    finally:
        client.close()
        assert worker.stop() == 0, worker.output()


def test_with_redis_down_the_worker_still_delivers(make_app, tmp_path):
    with RedisServer() as own_redis, Receiver() as receiver:
        app = make_app(WEBHOOK_ALLOW_PRIVATE_NETWORKS=LOOPBACK, REDIS_URL=own_redis.url)
        with app.app_context():
            site = make_site()
        add_endpoint(app, receiver.url)
        worker = WorkerProcess(
            worker_env(app, POLL_INTERVAL=0.5), log_path=tmp_path / "worker.log"
        )
        try:
            client = redis.Redis.from_url(own_redis.url)
            with app.app_context():
                name = channel()
            wait_until(lambda: client.pubsub_numsub(name)[0][1] >= 1, timeout=30)
            client.close()
            own_redis.stop()

            with app.app_context():
                make_comment(site)  # the wake-up is lost: Redis is down
            wait_until(lambda: len(receiver.requests()) == 1, timeout=10)
            assert worker.process.poll() is None
        finally:
            assert worker.stop() == 0, worker.output()
    assert all_delivered(app)


def test_workers_are_woken_only_when_a_post_made_deliveries(app, site, receiver):
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    listener = client.pubsub(ignore_subscribe_messages=True)
    try:
        with app.app_context():
            listener.subscribe(channel())
        listener.get_message(timeout=1)  # the subscription's confirmation
        with app.app_context():
            make_comment(site)  # no endpoint: nothing to deliver, nobody woken
        assert listener.get_message(timeout=0.5) is None
        add_endpoint(app, receiver.url)
        with app.app_context():
            make_comment(site)
        assert listener.get_message(timeout=5)["data"] == b"1"
    finally:
        listener.close()
        client.close()

"""Redis stops while readers post and a real webhook worker delivers: posting
goes on (each process counts limits in memory) and so do webhooks (the worker
polls the database instead of waiting for Redis to wake it)."""

import redis
import requests
from factories import make_site
from servers import Gunicorn, RedisServer, wait_until
from timing import within
from webhooks.conftest import LOOPBACK
from webhooks.receiver import Receiver
from webhooks.test_webhook_worker_process import WorkerProcess, worker_env

from commentsvc.webhooks import endpoints
from commentsvc.webhooks.outbox import COMMENT_CREATED
from commentsvc.webhooks.wake import channel

from .conftest import post_together, process_env, stored


def _delivered_comment_ids(receiver) -> set[int]:
    return {
        r.payload["data"]["comment"]["id"]
        for r in receiver.requests()
        if r.payload["type"] == COMMENT_CREATED
    }


def test_redis_stopped_posting_and_webhooks_go_on(fault_app, tmp_path):
    with RedisServer() as own_redis, Receiver() as receiver:
        app = fault_app(
            REDIS_URL=own_redis.url,
            RATELIMIT_POST="100/minute",
            WEBHOOK_ALLOW_PRIVATE_NETWORKS=LOOPBACK,
        )
        with app.app_context():
            make_site()
            _, secret = endpoints.add_endpoint("news", receiver.url)
            name = channel()
        receiver.secrets.append(secret)
        worker = WorkerProcess(
            worker_env(app, POLL_INTERVAL=0.5), log_path=tmp_path / "worker.log"
        )
        try:
            client = redis.Redis.from_url(own_redis.url)
            wait_until(lambda: client.pubsub_numsub(name)[0][1] >= 1, timeout=30)
            client.close()
            with Gunicorn(process_env(app), workers=1, threads=8) as server:
                before = post_together(server.url, 8)
                assert [r.status for r in before] == [202] * 8
                wait_until(lambda: len(receiver.requests()) == 8, timeout=10)

                own_redis.stop()
                during = post_together(server.url, 16)
                ready = requests.get(server.url + "/readyz", timeout=5)
            wait_until(lambda: len(receiver.requests()) >= 24, timeout=15)
            assert worker.process.poll() is None
        finally:
            assert worker.stop() == 0, worker.output()

    # Posting went on, without waiting on the dead Redis for long.
    assert [r.status for r in during] == [202] * 16, [r.body for r in during]
    assert max(r.elapsed for r in during) < within(
        2.5, waits=app.config["REDIS_SOCKET_TIMEOUT"]
    )
    # The instance serves without Redis: still ready, with a warning.
    assert ready.status_code == 200
    assert ready.json()["checks"]["redis"].startswith("unreachable")
    assert "redis" in ready.json()["warnings"]
    assert ready.json()["rate_limiter"] == "in-process fallback"

    accepted = {r.body["id"] for r in before + during}
    assert set(stored(app).comment_ids) == accepted
    # Every comment's comment.created event arrived, exactly once, signed.
    assert _delivered_comment_ids(receiver) == accepted
    assert len(receiver.requests()) == 24
    assert all(r.verified_with == [secret] for r in receiver.requests())

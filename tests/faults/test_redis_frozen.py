"""Redis hangs (frozen, not down) while a reader posts through gunicorn: one
post pays the Redis socket timeout, the next ones none; the fallback to
in-process rate limits is logged once when it starts and once when Redis is
back; and the instance stays ready (200, with a warning) all along."""

import json

import requests
from captcha_standin import SECRET, CaptchaStandIn
from factories import make_site
from servers import Gunicorn, RedisServer, wait_until
from webhooks.conftest import LOOPBACK
from webhooks.receiver import Receiver

from commentsvc.webhooks import endpoints

from .conftest import post, process_env

TIMEOUT = 0.5  # REDIS_SOCKET_TIMEOUT
# What a post costs besides Redis here (the captcha stand-in, PostgreSQL, HTTP),
# generously: a post that waited out one more socket timeout exceeds it.
SLACK = 0.35
FALLBACK_STARTED = "rate limits counted in this process"
REDIS_BACK = "Redis answers again"


def _log_messages(path) -> list[str]:
    messages = []
    for line in path.read_text().splitlines():
        try:
            messages.append(json.loads(line)["message"])
        except (ValueError, KeyError, TypeError):
            continue  # gunicorn's own lines
    return messages


def test_a_frozen_redis_costs_one_post_one_timeout(fault_app, tmp_path):
    log_path = tmp_path / "app.log"
    with (
        RedisServer() as own_redis,
        Receiver() as receiver,
        CaptchaStandIn(mode="any") as standin,
    ):
        app = fault_app(
            REDIS_URL=own_redis.url,
            REDIS_SOCKET_TIMEOUT=TIMEOUT,
            RATELIMIT_POST="100/minute",
            WEBHOOK_ALLOW_PRIVATE_NETWORKS=LOOPBACK,
            **standin.config(),
        )
        with app.app_context():
            # Every Redis call a post makes: the rate limit, the captcha
            # warning's clean-up (a good verification) and the webhook
            # workers' wake-up (the site has an endpoint).
            make_site(
                captcha_provider="recaptcha_v2",
                captcha_site_key="site-key",
                captcha_secret=SECRET,
            )
            endpoints.add_endpoint("news", receiver.url)
        env = process_env(app, REDIS_SOCKET_TIMEOUT=TIMEOUT)
        with (
            Gunicorn(env, workers=1, threads=4, log_path=log_path) as server,
            requests.Session() as session,
        ):

            def post_one(name):
                return post(session, server.url, name, captcha_token=f"any-{name}")

            assert post_one("warm-up").status == 202
            own_redis.freeze()
            try:
                frozen = [post_one(f"frozen-{n}") for n in range(6)]
                ready = requests.get(server.url + "/readyz", timeout=5)
            finally:
                own_redis.thaw()
            wait_until(
                lambda: REDIS_BACK in " ".join(_log_messages(log_path)), timeout=20
            )
            after = post_one("after")
            ready_after = requests.get(server.url + "/readyz", timeout=5)

    assert [r.status for r in frozen] == [202] * 6, [r.body for r in frozen]
    elapsed = [round(r.elapsed, 3) for r in frozen]
    # No post waits out more than one socket timeout ...
    assert max(elapsed) < TIMEOUT + SLACK, elapsed
    # ... and only the first to meet the hung Redis waits at all.
    assert sum(1 for e in elapsed if e >= TIMEOUT * 0.8) <= 1, elapsed
    assert after.status == 202

    # The instance could serve: ready, with Redis as a warning.
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"] == "ok"
    assert "redis" in ready.json()["warnings"]
    assert ready.json()["rate_limiter"] == "in-process fallback"
    assert ready_after.status_code == 200
    assert ready_after.json()["rate_limiter"] == "redis"

    messages = _log_messages(log_path)
    assert sum(FALLBACK_STARTED in m for m in messages) == 1, messages
    assert sum(REDIS_BACK in m for m in messages) == 1, messages
    started = next(i for i, m in enumerate(messages) if FALLBACK_STARTED in m)
    back = next(i for i, m in enumerate(messages) if REDIS_BACK in m)
    assert started < back

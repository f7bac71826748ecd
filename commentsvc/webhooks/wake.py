"""Waking the webhook workers after a commit. Only a nudge: workers also poll,
so with Redis down no event is lost, only delayed by the poll interval."""

import contextlib

from flask import current_app
from redis.exceptions import RedisError

from ..extensions import get_redis


def channel() -> str:
    return f"{current_app.config['REDIS_KEY_PREFIX']}webhooks:wake"


def wake_workers() -> None:
    """Tell idle workers there is work; call only after the commit."""
    with contextlib.suppress(RedisError, OSError):
        get_redis().publish(channel(), "1")

"""Waking the mail workers after a commit: only a nudge (they also poll)."""

import contextlib

from flask import current_app
from redis.exceptions import RedisError

from ..extensions import get_redis


def channel() -> str:
    return f"{current_app.config['REDIS_KEY_PREFIX']}mail:wake"


def wake_mail_workers() -> None:
    """Tell idle mail workers there is mail; call only after the commit."""
    with contextlib.suppress(RedisError, OSError):
        get_redis().publish(channel(), "1")

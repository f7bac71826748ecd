"""The SSO secret's one showing, across a redirect.

Rotating is a POST; its answer redirects to a GET page that shows the new
secret (so reloading that page never rotates again). The secret itself never
leaves the database: Redis keeps, for ten minutes and for the admin who
rotated, only a fingerprint of it, taken (GETDEL) by the first showing. The
page shows the site's current secret if its fingerprint matches, so a secret
rotated again meanwhile (another admin, the command line) is never shown.
"""

import hashlib
import hmac

from flask import current_app
from redis.exceptions import RedisError

from ..extensions import get_redis

SHOW_SECONDS = 600
# Written before the rotation, replaced by the fingerprint after it.
_RESERVED = b"reserved"


class CannotShowSecret(Exception):
    """Redis is unavailable: a new secret could not be shown once."""


def _key(moderator_id: int, site_id: int) -> str:
    prefix = current_app.config["REDIS_KEY_PREFIX"]
    return f"{prefix}sso-secret-shown:{moderator_id}:{site_id}"


def fingerprint(secret: str) -> bytes:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"sso-secret:" + secret.encode(), hashlib.sha256).digest()


def reserve(moderator_id: int, site_id: int) -> None:
    """Check that the showing can be kept, before anything is rotated.

    Raises:
        CannotShowSecret: Redis is unavailable.
    """
    try:
        get_redis().set(_key(moderator_id, site_id), _RESERVED, ex=SHOW_SECONDS)
    except (RedisError, OSError) as error:
        raise CannotShowSecret from error


def keep(moderator_id: int, site_id: int, secret: str) -> None:
    """Remember that *secret* is to be shown once to the moderator.

    Raises:
        CannotShowSecret: Redis is unavailable.
    """
    try:
        get_redis().set(
            _key(moderator_id, site_id), fingerprint(secret), ex=SHOW_SECONDS
        )
    except (RedisError, OSError) as error:
        raise CannotShowSecret from error


def take(moderator_id: int, site_id: int) -> bytes | None:
    """The fingerprint of the secret to show, once (None: nothing to show).

    Raises:
        CannotShowSecret: Redis is unavailable.
    """
    try:
        found = get_redis().getdel(_key(moderator_id, site_id))
    except (RedisError, OSError) as error:
        raise CannotShowSecret from error
    return None if found in (None, _RESERVED) else found

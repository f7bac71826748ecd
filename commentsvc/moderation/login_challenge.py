"""The login's own proof-of-work challenge (ALTCHA): a captcha with no third party.

When the login captcha is ``altcha`` (production's default), an account under
attack asks unknown browsers to solve a challenge before the password is
checked: the browser's widget (``static/vendor/altcha.min.js``) spends about a
second of CPU finding a counter whose PBKDF2 key starts with the challenge's
prefix; the server checks it with one derivation. A guesser pays that second
for every guess; the owner pays it once. Challenges are signed with a key
derived from ``SECRET_KEY``, expire after ``CHALLENGE_SECONDS`` and are good
once (kept in Redis until they expire).
"""

import hashlib
import hmac
import json
import logging
import time

import altcha
from flask import current_app
from redis.exceptions import RedisError

from ..extensions import get_redis

log = logging.getLogger(__name__)

ALGORITHM = "PBKDF2/SHA-256"
CHALLENGE_SECONDS = 600
# The answer's form field (the widget's default name).
FIELD = "altcha"


def _secret() -> bytes:
    # Its own key: a signature made for this never verifies as anything else.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"commentsvc.login.altcha", hashlib.sha256).digest()


def new_challenge() -> str:
    """A fresh signed challenge, as the JSON the widget's ``challenge``
    attribute takes."""
    challenge = altcha.create_challenge(
        ALGORITHM,
        current_app.config["LOGIN_CHALLENGE_COST"],
        expires_at=int(time.time()) + CHALLENGE_SECONDS,
        hmac_secret=_secret(),
    )
    return json.dumps(challenge.to_dict())


def solved(answer: str | None) -> bool:
    """True if *answer* (the widget's base64 payload) solves a challenge we
    signed, not expired and not used before. While Redis is down single use
    cannot be enforced and a good answer passes (it expires anyway)."""
    if not answer or len(answer) > 8192:
        return False
    try:
        result = altcha.verify_solution(answer, _secret())
    except (ValueError, TypeError, KeyError, AttributeError):
        return False
    if not result.verified:
        return False
    try:
        payload = altcha.Payload.from_base64(answer)
        signature = payload.challenge.signature
        prefix = current_app.config["REDIS_KEY_PREFIX"]
        return bool(
            get_redis().set(
                f"{prefix}login:altcha:{signature}", 1, nx=True, ex=CHALLENGE_SECONDS
            )
        )
    except (RedisError, OSError):
        log.warning("could not record a login challenge's use: accepted")
        return True

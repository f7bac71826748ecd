"""Captcha verification behind one interface: :func:`check`.

Providers: reCAPTCHA v2 and v3, hCaptcha, Turnstile (one siteverify protocol) and
the built-in ``dev`` provider. Provider trouble never loses a comment: it comes
back as an outcome the caller stores beside the comment.
"""

import contextlib
import json
import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError

from ..extensions import get_redis
from ..metrics import observe_captcha
from ..models import CaptchaProvider, Site, utcnow
from . import dev, siteverify
from .result import (
    ACTION,
    CaptchaExpired,
    CaptchaInvalid,
    CaptchaRefused,
    CaptchaResult,
    Outcome,
)

__all__ = [
    "ACTION",
    "CaptchaExpired",
    "CaptchaInvalid",
    "CaptchaRefused",
    "CaptchaResult",
    "Outcome",
    "check",
    "misconfigured_sites",
]

log = logging.getLogger(__name__)
MISCONFIGURED_TTL = 24 * 3600
FORGET_EVERY = 10.0


def check(site: Site, token: str | None, remote_ip: str | None) -> CaptchaResult:
    """Verify *token* with the site's provider.

    Returns the result for every outcome that still stores the comment: ok, low
    score, provider unavailable, misconfigured, and no captcha on the site.

    Raises:
        CaptchaExpired: the token expired or was used before.
        CaptchaInvalid: no token, a bad one, or one for another hostname/action.
    """
    provider = site.captcha_provider
    if provider == CaptchaProvider.NONE:
        return CaptchaResult(provider=provider.value, outcome=Outcome.NOT_REQUIRED)
    if not token:
        raise CaptchaInvalid(
            CaptchaResult(
                provider=provider.value,
                outcome=Outcome.INVALID,
                error_codes=["missing-input-response"],
                detail="no captcha token",
            )
        )
    if provider == CaptchaProvider.DEV:
        result = dev.verify(site, token)
    else:
        result = siteverify.verify(site, token, remote_ip)

    observe_captcha(result.provider, result.outcome.value, result.latency_ms)
    log.log(
        logging.DEBUG if result.outcome == Outcome.OK else logging.INFO,
        "captcha %s for site %s: %s %s",
        result.provider,
        site.slug,
        result.outcome.value,
        ",".join(result.error_codes),
    )
    if result.outcome == Outcome.EXPIRED:
        raise CaptchaExpired(result)
    if result.outcome == Outcome.INVALID:
        raise CaptchaInvalid(result)
    if result.outcome == Outcome.MISCONFIGURED:
        log.error(
            "captcha misconfigured for site %s (%s): %s; comments are held unverified",
            site.slug,
            result.provider,
            ",".join(result.error_codes) or result.detail,
        )
        _remember_misconfiguration(site, result)
    elif result.outcome in (Outcome.OK, Outcome.LOW_SCORE):
        _forget_misconfiguration(site)
    elif result.outcome == Outcome.UNAVAILABLE:
        log.warning(
            "captcha provider %s unavailable for site %s: %s",
            result.provider,
            site.slug,
            result.detail,
        )
    return result


def _key() -> str:
    # One hash (site slug -> what the provider said), so that /readyz reads one
    # key of at most one field per site instead of scanning the keyspace.
    return f"{current_app.config['REDIS_KEY_PREFIX']}captcha:misconfigured"


def _remember_misconfiguration(site: Site, result: CaptchaResult) -> None:
    # Shared by every app process, so /readyz on any of them can report it.
    value = json.dumps(
        {
            "provider": result.provider,
            "error_codes": result.error_codes,
            "detail": result.detail,
            "at": utcnow().isoformat(timespec="seconds"),
        }
    )
    current_app.extensions.get("commentsvc.captcha_cleared", {}).pop(site.slug, None)
    try:
        with get_redis().pipeline() as pipe:
            pipe.hset(_key(), site.slug, value)
            pipe.expire(_key(), MISCONFIGURED_TTL)
            pipe.execute()
    except (RedisError, OSError):
        log.warning("could not record the captcha misconfiguration in Redis")


def _forget_misconfiguration(site: Site) -> None:
    # Every good verification would cost a Redis round trip: once this process
    # has cleared the warning it skips that for a while (a warning another
    # process records meanwhile is cleared within FORGET_EVERY seconds).
    cleared = current_app.extensions.setdefault("commentsvc.captcha_cleared", {})
    if time.monotonic() - cleared.get(site.slug, -FORGET_EVERY) < FORGET_EVERY:
        return
    # Remembered whether it worked or not: a Redis in trouble is not asked on
    # every post. If Redis is down the warning simply expires by itself.
    cleared[site.slug] = time.monotonic()
    with contextlib.suppress(RedisError, OSError):
        get_redis().hdel(_key(), site.slug)


def misconfigured_sites() -> dict[str, dict]:
    """Sites whose captcha was found misconfigured in the last 24 h.

    Raises:
        redis.exceptions.RedisError: Redis is unreachable.
    """
    client = get_redis()
    found, stale = {}, []
    oldest = utcnow() - timedelta(seconds=MISCONFIGURED_TTL)
    for slug, raw in client.hgetall(_key()).items():
        try:
            info = json.loads(raw)
            fresh = datetime.fromisoformat(info["at"]) >= oldest
        except (ValueError, KeyError, TypeError):
            fresh = False
        if fresh:
            found[slug.decode()] = info
        else:
            stale.append(slug)
    if stale:
        client.hdel(_key(), *stale)
    return found

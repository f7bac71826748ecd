"""Liveness and readiness probes for load balancers and orchestrators.

/healthz: the process answers (liveness: restart it if not). /readyz: it can
serve readers (what a load balancer checks): 503 only without the database.
Its details (which dependency is down, which sites' captcha secret the provider
refuses) are for the operator's probes on METRICS_ALLOW_NETWORKS, as /metrics
is; anyone else gets the bare status.
"""

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from . import captcha
from .extensions import db, get_redis
from .metrics import allowed_without_token
from .ratelimit import limiter_state
from .redis_circuit import get_circuit

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and answering."""
    return jsonify({"status": "ok"})


def check_database() -> str | None:
    """Return None if the database answers, else a short reason."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError as error:
        db.session.rollback()
        return f"unreachable ({type(error).__name__})"
    return None


def check_redis() -> str | None:
    """Return None if Redis answers, else a short reason. While the circuit is
    open (a Redis call failed moments ago) the reason is known without asking:
    a hung Redis would cost this probe its socket timeout every time."""
    state = get_circuit(current_app).state()
    if state is not None:
        return state
    try:
        get_redis().ping()
    except (RedisError, OSError) as error:
        return f"unreachable ({type(error).__name__})"
    return None


@bp.get("/readyz")
def readyz():
    """Ready to serve: 503 only for what stops this instance from serving (the
    database). Without Redis, comments are still read and posted (rate limits
    counted in memory), so Redis trouble is a warning and the answer stays 200:
    a Redis outage must not take every instance out of the load balancer.
    The details only for METRICS_ALLOW_NETWORKS (see the module docstring)."""
    database = check_database()
    if allowed_without_token():
        body = _details(database)
    else:
        body = {"status": "unavailable" if database else "ok"}
    response = jsonify(body)
    if database:
        response.status_code = 503
        response.headers["Retry-After"] = str(
            current_app.config["UNAVAILABLE_RETRY_AFTER"]
        )
    return response


def _details(database: str | None) -> dict:
    """The whole readiness report: checks, the rate limiter, warnings."""
    redis_reason = check_redis()
    body = {
        "status": "unavailable" if database else "ok",
        "checks": {"database": database or "ok", "redis": redis_reason or "ok"},
        "rate_limiter": limiter_state(),
    }
    warnings = {}
    if redis_reason:
        warnings["redis"] = (
            f"{redis_reason}: rate limits are counted per process, webhook and "
            "training workers poll instead of being woken"
        )
    else:
        # A site's wrong captcha secret holds its comments unverified; it is worth
        # a warning, not taking every site out of the load balancer.
        try:
            misconfigured = captcha.misconfigured_sites()
        except (RedisError, OSError):
            misconfigured = {}
        if misconfigured:
            warnings["captcha_misconfigured"] = {
                slug: info.get("error_codes") or info.get("detail")
                for slug, info in misconfigured.items()
            }
    if warnings:
        body["warnings"] = warnings
    return body

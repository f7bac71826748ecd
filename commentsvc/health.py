"""Liveness and readiness probes for load balancers and orchestrators."""

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from . import captcha
from .extensions import db, get_redis
from .ratelimit import limiter_state

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
    """Return None if Redis answers, else a short reason."""
    try:
        get_redis().ping()
    except (RedisError, OSError) as error:
        return f"unreachable ({type(error).__name__})"
    return None


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database and Redis answer. 503 names what failed."""
    checks = {"database": check_database(), "redis": check_redis()}
    failed = {name: reason for name, reason in checks.items() if reason}
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {name: (reason or "ok") for name, reason in checks.items()},
    }
    body["rate_limiter"] = limiter_state()
    if not failed:
        # A site's wrong captcha secret holds its comments unverified; it is worth
        # a warning, not taking every site out of the load balancer.
        try:
            misconfigured = captcha.misconfigured_sites()
        except (RedisError, OSError):
            misconfigured = {}
        if misconfigured:
            body["warnings"] = {
                "captcha_misconfigured": {
                    slug: info.get("error_codes") or info.get("detail")
                    for slug, info in misconfigured.items()
                }
            }
    response = jsonify(body)
    if failed:
        response.status_code = 503
        response.headers["Retry-After"] = str(
            current_app.config["UNAVAILABLE_RETRY_AFTER"]
        )
    return response

"""One JSON error envelope for ``/api/``; plain HTML error pages elsewhere.

Routing errors (404, 405) are decided at app level, so they are JSON under
``/api/`` even though no blueprint handler ever sees them.
"""

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

# Codes for HTTP errors raised by Flask/Werkzeug rather than by our own code.
_HTTP_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error answered with the JSON envelope ``{"error": {...}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict | None = None,
        headers: dict | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}
        self.extra = extra or {}


def rate_limited(retry_after: int) -> ApiError:
    """The 429 envelope, whichever limiter refused."""
    return ApiError(
        429,
        "rate_limited",
        f"Too many requests. Please try again in {retry_after} seconds.",
        headers={"Retry-After": str(retry_after)},
        extra={"retry_after": retry_after},
    )


class ServiceUnavailable(Exception):
    """A dependency the request needs (the database) cannot be reached."""


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error_response(error: ApiError):
    g.error_code = error.code  # for the metrics of posts by outcome
    body = {"code": error.code, "message": error.message, "fields": error.fields}
    body.update(error.extra)
    response = jsonify({"error": body})
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _http_error(error: HTTPException):
    # 429 (Flask-Limiter's refusal) has its own handler: commentsvc.ratelimit.
    if not is_api_request():
        return render_template("errors/error.html", error=error), error.code or 500
    code = _HTTP_CODES.get(error.code or 500, "error")
    message = error.description or error.name
    if error.code == 413:
        message = "The request body is too large."
    elif error.code == 404:
        message = "There is nothing at this address."
    elif error.code == 405:
        message = f"The method {request.method} is not allowed here."
    response = api_error_response(ApiError(error.code or 500, code, message))
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _csrf_refused(error: CSRFError):
    # The page only says "The referrer does not match the host.": the operator
    # needs the two values (a proxy that drops the port from the Host it
    # forwards refuses every form over HTTPS on a port other than 443).
    log.warning(
        "form refused: %s (host %s, referrer %s)",
        error.description,
        request.host,
        request.referrer or "none",
    )
    return _http_error(error)


def _unavailable(error: Exception):
    log.warning("database unavailable: %s", type(error).__name__)
    from .extensions import db

    # The session may hold a dead connection; drop it so the next request starts
    # clean (the pool pre-pings and reconnects when the database is back).
    db.session.rollback()
    retry_after = str(current_app.config["UNAVAILABLE_RETRY_AFTER"])
    message = "The service is temporarily unavailable. Please try again shortly."
    if is_api_request():
        return api_error_response(
            ApiError(503, "unavailable", message, headers={"Retry-After": retry_after})
        )
    return (
        render_template("errors/error.html", error=InternalServerError(message)),
        503,
        {"Retry-After": retry_after},
    )


def _database_error(error: DBAPIError):
    if isinstance(error, OperationalError) or error.connection_invalidated:
        return _unavailable(error)
    # The database's own message can quote row values (secrets, what readers
    # typed): log what failed, never the data.
    log.error(
        "database error %s in: %s",
        type(error.orig).__name__,
        (error.statement or "")[:500],
    )
    from .extensions import db

    db.session.rollback()
    if is_api_request():
        return api_error_response(
            ApiError(500, "internal_error", "Something went wrong on our side.")
        )
    return render_template("errors/error.html", error=InternalServerError()), 500


def _internal(error: Exception):
    log.exception("unhandled error", exc_info=error)
    if is_api_request():
        return api_error_response(
            ApiError(500, "internal_error", "Something went wrong on our side.")
        )
    return render_template("errors/error.html", error=InternalServerError()), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, api_error_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(ServiceUnavailable, _unavailable)
    app.register_error_handler(DBAPIError, _database_error)
    # Every pooled connection busy: the database is overloaded, not broken.
    app.register_error_handler(PoolTimeout, _unavailable)
    app.register_error_handler(InternalServerError, _internal)

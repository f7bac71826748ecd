"""Structured JSON logs with a request id.

Every request gets an id (the client's ``X-Request-ID`` when it is a sane token,
else a fresh one), echoed in the response and stamped on every log line written
while the request runs, so one reader's trouble can be followed across lines.
Request bodies are never logged: they hold what readers typed, and secrets.
"""

import itertools
import json
import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("commentsvc.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and
    any ``extra`` fields."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One readable line per event, for a terminal (the demo): time, level,
    logger, message, then the request id and the access line's duration when
    there are some."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        duration = getattr(record, "duration_ms", None)
        if duration is not None:
            line += f" ({duration} ms)"
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


# A random prefix per process and a counter: unique across processes and hosts
# (made anew after a fork), and far cheaper than a uuid4 per request.
_ids = {"pid": None, "prefix": "", "counter": itertools.count()}


def new_request_id() -> str:
    if _ids["pid"] != os.getpid():
        _ids.update(pid=os.getpid(), prefix=uuid.uuid4().hex[:16])
    return f"{_ids['prefix']}{next(_ids['counter']):016x}"


def valid_request_id(value: str) -> bool:
    return bool(_REQUEST_ID.match(value))


def _begin() -> None:
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if valid_request_id(offered) else new_request_id()
    g.request_started = time.perf_counter()


def log_access(method, path, endpoint, status, duration, request_id=None) -> None:
    """One access line: what was asked, the answer, how long it took."""
    access_log.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "method": method,
            "path": path,
            "endpoint": endpoint,
            "status": status,
            "duration_ms": round(duration * 1000, 2),
            **({"request_id": request_id} if request_id else {}),
        },
    )


def logged_path() -> str:
    """The request's path as the access log writes it: a secret in it (a mail
    link's or a sign-in link's token) is replaced by "[token]", so that
    whoever reads the logs cannot use a link before its reader does."""
    path = request.path
    token = (request.view_args or {}).get("token")
    if isinstance(token, str) and token:
        path = path.replace(token, "[token]")
    return path


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    started = g.get("request_started")
    if started is not None:
        log_access(
            request.method,
            logged_path(),
            request.endpoint,
            response.status_code,
            time.perf_counter() - started,
        )
    return response


def configure(app: Flask) -> None:
    """Send the ``commentsvc`` loggers to stderr, as JSON (or plain text with
    LOG_FORMAT=text), at LOG_LEVEL: one line per event. Nothing else may add a
    root handler for our loggers (``logging.basicConfig`` in a worker did): they
    propagate, so each line would be written again in the root's format."""
    logger = logging.getLogger("commentsvc")
    logger.setLevel(app.config["LOG_LEVEL"].upper())
    if not any(getattr(h, "_commentsvc", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._commentsvc = True
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
    for handler in logger.handlers:
        if getattr(handler, "_commentsvc", False):
            handler.setFormatter(
                JsonFormatter()
                if app.config["LOG_FORMAT"] == "json"
                else TextFormatter()
            )
    access_log.disabled = not app.config["LOG_ACCESS"]


def init_app(app: Flask) -> None:
    configure(app)
    app.before_request(_begin)
    app.after_request(_finish)

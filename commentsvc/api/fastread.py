"""A fast path for the hottest request: a thread listing already in the read
cache, served without Flask's per-request machinery.

It answers exactly what the Flask view would (body, ETag, 304, CORS, cache and
security headers, request id, access log, metrics, the read limit), and hands
anything else to the app unchanged: a cache miss, an origin it would refuse, a
refused read, a query it is not sure how to read. tests/test_fastread.py holds
the two paths to the same answers.
"""

import re
import time
from urllib.parse import parse_qsl

from flask import Flask

from .. import logs, ratelimit, security
from ..comments.cache import listing_key, site_key
from ..metrics import REQUESTS
from .cors import EXPOSE_HEADERS, origin_allowed
from .forms import thread_key_problem

_PATH = re.compile(r"^/api/v1/sites/([a-z0-9][a-z0-9-]{0,63})/comments$")
_ENDPOINT = "api.list_comments"


def _etags(header: str) -> set[str]:
    return {
        part.strip().removeprefix("W/").strip('"')
        for part in header.split(",")
        if part.strip()
    }


class FastReads:
    """WSGI middleware in front of the Flask app (ProxyFix stays outside it)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        config = app.config
        self.cache = app.extensions["commentsvc.read_cache"]
        self.counter = app.extensions["commentsvc.read_limits"]
        self.limits_on = config["RATELIMIT_ENABLED"]
        self.ipv6_prefix = config["RATELIMIT_IPV6_PREFIX"]
        self.max_age = f"public, max-age={config['API_CACHE_MAX_AGE']}"
        self.served = 0  # answers given here (for tests and curiosity)

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        match = _PATH.match(environ.get("PATH_INFO", ""))
        if match is None or self.cache.ttl <= 0:
            return self.wsgi_app(environ, start_response)
        answer = self._answer(environ, match.group(1))
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def _answer(self, environ, slug):
        started = time.perf_counter()
        params = parse_qsl(
            environ.get("QUERY_STRING", ""), keep_blank_values=True, errors="replace"
        )
        query = dict(params)
        if len(query) != len(params) or not 1 <= len(query) <= 3:
            return None
        if "thread" not in query or set(query) - {"thread", "cursor", "sort"}:
            return None
        sort = query.get("sort", "")
        if sort not in ("", "oldest", "newest"):
            return None  # the app answers the 422
        key = query["thread"].strip()
        if thread_key_problem(key):
            return None  # the app answers the 422
        cursor = query.get("cursor", "")
        site = self.cache.get(site_key(slug))
        listing = self.cache.get(listing_key(slug, key, cursor, sort)) if site else None
        if listing is None:
            return None
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None:
            scheme = environ.get("wsgi.url_scheme", "http")
            own = f"{scheme}://{environ.get('HTTP_HOST', '')}"
            if not origin_allowed(site, origin, own):
                return None
        if self.limits_on:
            address = ratelimit.client_ip(environ.get("REMOTE_ADDR") or "")
            bucket = ratelimit.ip_bucket(address, self.ipv6_prefix)
            if self.counter.hit(bucket) is not None:
                return None  # the app answers the 429 (and counts it)

        offered = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = (
            offered if logs.valid_request_id(offered) else logs.new_request_id()
        )
        etag = f'"{listing.etag}"'
        not_modified = False
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match:
            # As Werkzeug reads it: "*" counts only when sent alone.
            not_modified = if_none_match.strip() == "*" or (
                listing.etag in _etags(if_none_match)
            )
        headers = []
        if not not_modified:
            headers.append(("Content-Type", "application/json"))
            headers.append(("Content-Length", str(len(listing.body))))
        headers += [
            ("ETag", etag),
            ("Cache-Control", self.max_age),
            ("Vary", "Origin"),
        ]
        if origin is not None:
            headers.append(("Access-Control-Allow-Origin", origin))
            headers.append(("Access-Control-Expose-Headers", EXPOSE_HEADERS))
        headers.append(("X-Request-ID", request_id))
        headers += security.api_headers(environ.get("wsgi.url_scheme") == "https")
        status_code = 304 if not_modified else 200
        duration = time.perf_counter() - started
        REQUESTS.labels(_ENDPOINT, f"{status_code // 100}xx").observe(duration)
        logs.log_access(
            "GET",
            environ.get("PATH_INFO", ""),
            _ENDPOINT,
            status_code,
            duration,
            request_id,
        )
        self.served += 1
        status = "304 NOT MODIFIED" if not_modified else "200 OK"
        return status, headers, b"" if not_modified else listing.body


def init_app(app: Flask) -> None:
    """Install the fast path; call after the extensions and before ProxyFix."""
    app.wsgi_app = FastReads(app, app.wsgi_app)

"""Serve the embed's JavaScript: a stable URL, a content-hash ETag, cacheable."""

import hashlib
from pathlib import Path

from flask import Response, abort, current_app, request

from . import bp

STATIC = Path(__file__).resolve().parent.parent / "static"
# A stable URL cannot be cached forever: browsers and CDNs revalidate hourly
# (a cheap 304 thanks to the ETag), so a new release reaches readers the same day.
MAX_AGE = 3600


def _asset(name: str) -> tuple[bytes, str]:
    """The bytes of a static script and their ETag, re-read when the file changes."""
    path = STATIC / name
    mtime = path.stat().st_mtime_ns
    cache = current_app.extensions.setdefault("commentsvc.embed_assets", {})
    cached = cache.get(name)
    if cached is None or cached[0] != mtime:
        body = path.read_bytes()
        cached = cache[name] = (mtime, body, hashlib.sha256(body).hexdigest()[:32])
    return cached[1], cached[2]


def _script(name: str) -> Response:
    body, etag = _asset(name)
    response = Response(body, mimetype="text/javascript")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A public script: any page may load it, also with crossorigin/integrity.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.get("/embed.js")
def embed_js():
    """The embed script: comments and the reply form on any page of a site."""
    return _script("embed.js")


@bp.get("/captcha-dev.js")
def captcha_dev_js():
    """The dev captcha's checkbox widget (only where the dev provider is enabled)."""
    if not current_app.config["CAPTCHA_DEV_ENABLED"]:
        abort(404)
    return _script("captcha-dev.js")

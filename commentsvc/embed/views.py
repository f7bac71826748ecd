"""Serve the embed's JavaScript (embed.js, the parts it loads on first use,
count.js): minified, a stable URL, a content-hash ETag, cacheable, gzipped for
every browser that accepts it (gunicorn compresses nothing)."""

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import rjsmin
from flask import Response, abort, current_app, request

from . import bp

STATIC = Path(__file__).resolve().parent.parent / "static"
# A stable URL cannot be cached forever: browsers and CDNs revalidate hourly
# (a cheap 304 thanks to the ETag), so a new release reaches readers the same day.
MAX_AGE = 3600


@dataclass(frozen=True)
class Asset:
    mtime_ns: int
    body: bytes
    gzipped: bytes
    etag: str


def _asset(name: str) -> Asset:
    """A static script, minified, its gzipped bytes and ETag; re-read when the
    file changes."""
    path = STATIC / name
    mtime_ns = path.stat().st_mtime_ns
    cache = current_app.extensions.setdefault("commentsvc.embed_assets", {})
    asset = cache.get(name)
    if asset is None or asset.mtime_ns != mtime_ns:
        # The source stays readable (comments, no build step); readers get it
        # without comments and indentation: a fifth less, gzipped.
        body = minify(path.read_bytes())
        asset = cache[name] = Asset(
            mtime_ns=mtime_ns,
            body=body,
            # mtime=0: the same bytes (and so the same ETag) on every instance.
            gzipped=gzip.compress(body, compresslevel=9, mtime=0),
            etag=hashlib.sha256(body).hexdigest()[:32],
        )
    return asset


def minify(source: bytes) -> bytes:
    """JavaScript without comments and spare whitespace (``/*!`` notices kept)."""
    return rjsmin.jsmin(source.decode(), keep_bang_comments=True).encode()


def _script(name: str) -> Response:
    asset = _asset(name)
    if "gzip" in request.accept_encodings:
        response = Response(asset.gzipped, mimetype="text/javascript")
        response.content_encoding = "gzip"
        response.set_etag(asset.etag + "-gz")
    else:
        response = Response(asset.body, mimetype="text/javascript")
        response.set_etag(asset.etag)
    response.vary.add("Accept-Encoding")
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


@bp.get("/embed-extra.js")
def embed_extra_js():
    """The embed's reader features (report, edit, delete, permalinks to later
    pages), loaded by embed.js on first use."""
    return _script("embed-extra.js")


@bp.get("/embed-captcha.js")
def embed_captcha_js():
    """The embed's captcha widget (the site's provider's), loaded by embed.js
    when a reader first touches a form of a site with a captcha."""
    return _script("embed-captcha.js")


@bp.get("/embed-auth.js")
def embed_auth_js():
    """The embed's sign-in chooser and the reader's account panel, loaded by
    embed.js on first use (or on coming back from a sign-in)."""
    return _script("embed-auth.js")


@bp.get("/count.js")
def count_js():
    """Comment counts for lists of articles: fills every data-commentsvc-count
    element of a page with one request (per 100 threads)."""
    return _script("count.js")


@bp.get("/captcha-dev.js")
def captcha_dev_js():
    """The dev captcha's checkbox widget (only where the dev provider is enabled)."""
    if not current_app.config["CAPTCHA_DEV_ENABLED"]:
        abort(404)
    return _script("captcha-dev.js")

"""The OpenAPI document of the public API, served from the file kept beside this
module (``openapi.json``, the one the schemathesis tests check the API against)."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, request

from . import bp

DOCUMENT_PATH = Path(__file__).resolve().with_name("openapi.json")
MAX_AGE = 3600


@dataclass(frozen=True)
class _Document:
    body: bytes
    etag: str


def document_bytes() -> bytes:
    """The document as stored in the package."""
    return DOCUMENT_PATH.read_bytes()


def _document() -> _Document:
    # Read once per app: the file only changes with a release.
    cache = current_app.extensions.get("commentsvc.openapi")
    if cache is None:
        body = document_bytes()
        cache = _Document(body=body, etag=hashlib.sha256(body).hexdigest()[:32])
        current_app.extensions["commentsvc.openapi"] = cache
    return cache


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API; public, any origin may read it."""
    document = _document()
    response = Response(document.body, mimetype="application/json")
    response.set_etag(document.etag)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)

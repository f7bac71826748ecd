"""The public, cross-origin JSON API (v1)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import account_views, openapi, reader_views, views  # noqa: E402,F401  (registers the routes on bp)

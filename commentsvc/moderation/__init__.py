"""The moderators' side: login now; the review UI builds on it."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

from . import admin_views, moderator_views, queue_views, views  # noqa: E402,F401  (routes on bp)

"""The moderators' side: login now; the review UI builds on it."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

from . import views  # noqa: E402,F401  (registers the routes on bp)

"""The moderators' side: login now; the review UI builds on it."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

from . import (  # noqa: E402,F401  (routes on bp)
    admin_views,
    audit_views,
    mail_views,
    moderator_views,
    queue_views,
    reader_views,
    reply_views,
    revision_views,
    sign_in_views,
    views,
)

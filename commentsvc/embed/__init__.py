"""The embed script a site's pages load: ``/embed.js`` (and the dev captcha's
widget, ``/captcha-dev.js``), at stable addresses."""

from flask import Blueprint

bp = Blueprint("embed", __name__)

from . import views  # noqa: E402,F401  (registers the routes on bp)

"""The scripts a site's pages load, at stable addresses: ``/embed.js``, the
parts it loads on first use (``/embed-extra.js``, ``/embed-captcha.js``,
``/embed-auth.js``), ``/count.js`` (counts for lists of articles) and the dev
captcha's widget, ``/captcha-dev.js``."""

from flask import Blueprint

bp = Blueprint("embed", __name__)

from . import views  # noqa: E402,F401  (registers the routes on bp)

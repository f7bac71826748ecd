"""The API's rate limits: which views are limited, by what and per what key.

Posts are counted per site and client, at the site's own limit or the global
one, and also per client across every site of the instance (a client spread
over many sites still meets one cap). The mechanism is commentsvc.ratelimit.
"""

from flask import current_app, request
from sqlalchemy.exc import SQLAlchemyError

from ..comments.reporters import report_network
from ..extensions import db
from ..ratelimit import client_bucket, client_ip, config_limit
from .lookup import request_site


def _request_site():
    """The site the request names, or None (unknown, or the database failed)."""
    try:
        return request_site((request.view_args or {}).get("site_slug", ""))
    except SQLAlchemyError:
        # The view answers 503; a database error here must not be mistaken by
        # Flask-Limiter for a dead Redis. Roll back: a connection lost here
        # leaves the session unusable until then, and the view's own lookup
        # would fail with PendingRollbackError (a 500) instead of reconnecting.
        db.session.rollback()
        return None


def site_client_bucket() -> str:
    """Posts are counted per site and client bucket. Posts naming a site that
    does not exist share one bucket per client, whatever the slug: random
    slugs must leave no state of their own in Redis."""
    site = _request_site()
    return f"{site.slug if site is not None else '?'}|{client_bucket()}"


def all_sites_client_bucket() -> str:
    """Posts to every site of the instance, per client bucket."""
    return f"*|{client_bucket()}"


def report_bucket() -> str:
    """Reports are counted per network as reports count readers: an IPv6 /48,
    not the /64 of the other limits (commentsvc/comments/reporters.py)."""
    return f"report|{report_network(client_ip())}"


def post_limits() -> str:
    """The site's own post limit, or the global one."""
    site = _request_site()
    if site is not None and site.post_rate_limit:
        return site.post_rate_limit
    return current_app.config["RATELIMIT_POST"]


# (limits, key function, methods or None for all); the first rule of a view is
# also its limit while Redis is unreachable (counted in memory, per client).
VIEW_LIMITS = {
    "api.post_comment": [
        (post_limits, site_client_bucket, None),
        (config_limit("RATELIMIT_POST_ALL_SITES"), all_sites_client_bucket, None),
    ],
    "api.report_comment": [(config_limit("RATELIMIT_REPORT"), report_bucket, None)],
    "api.edit_comment": [(config_limit("RATELIMIT_EDIT"), client_bucket, None)],
    "api.delete_comment": [(config_limit("RATELIMIT_EDIT"), client_bucket, None)],
    "api.email_sign_in": [(config_limit("RATELIMIT_SIGN_IN"), client_bucket, None)],
    # Each start asks the site's OpenID provider (discovery), each callback
    # exchanges a code with it: a client must not make us hammer it.
    "auth.oidc_start": [(config_limit("RATELIMIT_SIGN_IN"), client_bucket, None)],
    "auth.oidc_callback": [(config_limit("RATELIMIT_SIGN_IN"), client_bucket, None)],
    "api.export_me": [(config_limit("RATELIMIT_EDIT"), client_bucket, None)],
    "api.erase_me": [(config_limit("RATELIMIT_EDIT"), client_bucket, None)],
    "api.form_token": [(config_limit("RATELIMIT_CAPTCHA"), client_bucket, None)],
    "api.dev_captcha_token": [(config_limit("RATELIMIT_CAPTCHA"), client_bucket, None)],
}

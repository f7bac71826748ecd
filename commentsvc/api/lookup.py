"""The site a request names, looked up once per request."""

from flask import request

from ..sites import SLUG, SiteSettings, site_settings


def request_site(slug: str) -> SiteSettings | None:
    """The settings of the site *slug* of this request, or None. The rate limiter
    and the view both need them; they are looked up once.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """
    if not SLUG.match(slug or ""):
        return None  # never send a slug no site can have to the database
    # Kept in the WSGI environ: it lives exactly as long as the request.
    cache = request.environ.setdefault("commentsvc.sites", {})
    if slug not in cache:
        cache[slug] = site_settings(slug)
    return cache[slug]

"""The site a request names, looked up once per request."""

import sqlalchemy as sa
from flask import request

from ..extensions import db
from ..models import Site
from ..sites import SLUG


def request_site(slug: str) -> Site | None:
    """The site *slug* of this request, or None. The rate limiter and the view
    both need it; the database is asked once.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """
    if not SLUG.match(slug or ""):
        return None  # never send a slug no site can have to the database
    # Kept in the WSGI environ: it lives exactly as long as the request.
    cache = request.environ.setdefault("commentsvc.sites", {})
    if slug not in cache:
        cache[slug] = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    return cache[slug]

"""Each site's sign-in settings, read on every post and cached like the
site's own (a change drops them everywhere)."""

import dataclasses

import sqlalchemy as sa

from ..comments.cache import invalidate, read_cache
from ..extensions import db
from ..models import SiteSignIn

_table = SiteSignIn.__table__
# A read-only snapshot, safe to share between threads; its repr hides secrets.
SignInSettings = dataclasses.make_dataclass(
    "SignInSettings", [column.key for column in _table.columns], frozen=True, repr=False
)
SignInSettings.__repr__ = lambda self: f"<SignInSettings site={self.site_id}>"
_BY_SITE = sa.select(_table).where(_table.c.site_id == sa.bindparam("site_id"))


# Built once: every guest's post on a site without a row reads them.
_DEFAULTS = {
    column.key: column.default.arg if column.default is not None else None
    for column in _table.columns
}


def defaults(site_id: int):
    """The settings of a site that never changed them: guests only."""
    return SignInSettings(**{**_DEFAULTS, "site_id": site_id})


def sign_in_settings(site_id: int, slug: str):
    """The sign-in settings of the site *site_id* (slug *slug*), cached.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """
    cache = read_cache()
    key = ("sign_in", slug)
    settings = cache.get(key)
    if settings is None:
        generation = cache.generation
        row = db.session.connection().execute(_BY_SITE, {"site_id": site_id}).first()
        settings = SignInSettings(**row._mapping) if row else defaults(site_id)
        cache.put(key, settings, generation)
    return settings


def change(site_id: int, slug: str, **changes) -> SiteSignIn:
    """Set sign-in settings of a site and commit; every process forgets its
    cached copy. Values are trusted: callers validate them.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed; nothing changed.
    """
    row = db.session.get(SiteSignIn, site_id)
    if row is None:
        row = SiteSignIn(**dataclasses.asdict(defaults(site_id)))
        db.session.add(row)
    for name, value in changes.items():
        if name not in _table.columns or name == "site_id":
            raise TypeError(f"no sign-in setting {name!r}")
        setattr(row, name, value)
    db.session.commit()
    invalidate(slug)
    return row

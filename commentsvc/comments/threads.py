"""Sites and threads: look-ups, and the race-free creation of a thread."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Site, Thread, utcnow
from .errors import SiteNotFound


def get_site(slug: str) -> Site:
    """Return the site with *slug*.

    Raises:
        SiteNotFound: there is no such site.
    """
    site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    if site is None:
        raise SiteNotFound(slug)
    return site


def find_thread(site: Site, key: str) -> Thread | None:
    """Return the thread *key* of *site*, or None: reading never creates one."""
    return db.session.scalar(
        sa.select(Thread).where(Thread.site_id == site.id, Thread.key == key)
    )


def get_or_create_thread(site: Site, key: str, url: str, title: str | None) -> Thread:
    """Return the thread *key* of *site*, creating it on its first post.

    Concurrent first posts race on the unique (site, key) constraint: the insert
    does nothing when another transaction got there first, so exactly one row is
    ever made and nobody sees an IntegrityError.
    """
    thread = find_thread(site, key)
    if thread is not None:
        return thread  # the common case: one query
    insert = (
        postgresql.insert
        if db.session.get_bind().dialect.name == "postgresql"
        else sqlite.insert
    )
    statement = (
        insert(Thread)
        .values(site_id=site.id, key=key, url=url, title=title, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["site_id", "key"])
    )
    db.session.execute(statement)
    thread = find_thread(site, key)
    assert thread is not None  # inserted above, or by the transaction we waited for
    return thread

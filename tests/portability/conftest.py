"""Shared helpers of the import, export and erasure tests."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from factories import make_site

from commentsvc.extensions import db
from commentsvc.models import Comment, Site, Thread

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"


@pytest.fixture
def site(app):
    with app.app_context():
        make_site()
    return "news"


def run(runner, *args, input=None):
    """Run a ``flask`` command; fail the test with its output if it failed."""
    result = runner.invoke(args=[str(a) for a in args], input=input)
    assert result.exit_code == 0, result.output
    return result


def all_comments(slug: str = "news") -> list[Comment]:
    site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == slug))
    return list(
        db.session.scalars(sa.select(Comment).where(Comment.site_id == site_id))
    )


def comments(slug: str = "news") -> dict[str, Comment]:
    """The site's imported comments by import_key (call in an app context)."""
    return {c.import_key: c for c in all_comments(slug) if c.import_key}


def threads(slug: str = "news") -> dict[str, Thread]:
    site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == slug))
    rows = db.session.scalars(sa.select(Thread).where(Thread.site_id == site_id))
    return {t.key: t for t in rows}


def counts() -> tuple[int, int]:
    """Every comment and thread stored, all sites."""
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Comment)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Thread)),
    )

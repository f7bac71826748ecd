"""Fixtures for the moderation UI: sites, moderators, logged-in clients."""

import pytest
from crawl import csrf_from, log_in  # noqa: F401 - csrf_from is re-exported for the tests
from factories import make_site

from commentsvc.models import Role
from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"


def logged_in_client(app, username):
    """A client logged in through the login form (with its CSRF token)."""
    return log_in(app, username, PASSWORD)


@pytest.fixture
def two_sites(app):
    """Sites 'news' and 'blog'; 'mod' moderates news, 'blogger' blog, 'boss' is
    an admin."""
    with app.app_context():
        make_site()
        make_site("blog", "A Blog", allowed_origins=["https://blog.example"])
        create_moderator("mod", PASSWORD, site_slugs=["news"])
        create_moderator("blogger", PASSWORD, site_slugs=["blog"])
        create_moderator("boss", PASSWORD, role=Role.ADMIN)


@pytest.fixture
def mod_client(app, two_sites):
    return logged_in_client(app, "mod")


@pytest.fixture
def admin_client(app, two_sites):
    return logged_in_client(app, "boss")

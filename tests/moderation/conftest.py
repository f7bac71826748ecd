"""Fixtures for the moderation UI: sites, moderators, logged-in clients."""

import re

import pytest
from factories import make_site

from commentsvc.models import Role
from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def logged_in_client(app, username):
    client = app.test_client()
    page = client.get("/moderation/login").get_data(as_text=True)
    response = client.post(
        "/moderation/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


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

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


def settings_form(client, **changes):
    """Posts the news site's settings form: every field as a browser would send
    it, with *changes*."""
    page = client.get("/moderation/sites/news/settings").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "name": "Example News",
        "allowed_origins": "https://news.example",
        "captcha_provider": "none",
        "captcha_site_key": "",
        "captcha_secret": "",
        "captcha_score_threshold": "0.5",
        "post_rate_limit": "",
        "moderation_policy": "hold_all",
        "trusted_author_min_approved": "1",
        "max_length": "5000",
        "max_links": "2",
        "blocked_words": "",
        "watch_words": "",
        "min_submit_seconds": "3",
        "akismet_key": "",
        "report_threshold": "3",
        "edit_window_seconds": "300",
        "default_sort": "oldest",
        "max_reply_depth": "4",
        "close_after_days": "",
        "spam_threshold": "",
        "spam_hold_threshold": "",
    }
    data.update(changes)
    return client.post("/moderation/sites/news/settings", data=data)

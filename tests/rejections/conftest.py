"""Fixtures for "what a site rejects": a site with the learning filter on
(it scores comments for both models), posts through the real API."""

import pytest
from factories import make_site

INSULT = "You are all idiots, shut this paper down."
CIVIL = "Our town tried this too; it worked for two winters."
NUDGE = (
    "Your comment may break this site's rules. Edit it, or post it anyway for "
    "a moderator to decide."
)


@pytest.fixture
def site(app):
    """``site(**settings)``: the site "news" with the learning filter on."""

    def create(**settings):
        settings.setdefault("spam_filter_enabled", True)
        with app.app_context():
            make_site("news", **settings)

    return create

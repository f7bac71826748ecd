"""Admin pages: site settings (secrets write-only) and moderators."""

import sqlalchemy as sa

from commentsvc.extensions import db
from commentsvc.models import Moderator, Site

from .conftest import csrf_from, logged_in_client, settings_form

SETTINGS = "/moderation/sites/news/settings"


def _form(client, **changes):
    base = {
        "allowed_origins": "https://news.example\nhttps://www.news.example",
        "captcha_provider": "recaptcha_v3",
        "captcha_site_key": "site-key",
    }
    return settings_form(client, **{**base, **changes})


def _news(app):
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        db.session.expunge(site)
        return site


def test_admin_changes_settings_and_the_secret_is_write_only(app, admin_client):
    response = _form(admin_client, captcha_secret="s3cret-value", require_email="y")
    assert response.status_code == 302
    site = _news(app)
    assert site.captcha_secret == "s3cret-value"
    assert site.require_email is True
    assert site.allowed_origins == ["https://news.example", "https://www.news.example"]
    page = admin_client.get(SETTINGS).get_data(as_text=True)
    assert "s3cret-value" not in page
    assert "set: leave empty to keep" in page
    # Saving without typing it again keeps it.
    assert _form(admin_client).status_code == 302
    assert _news(app).captcha_secret == "s3cret-value"
    assert _form(admin_client, clear_captcha_secret="y").status_code == 302
    assert _news(app).captcha_secret is None


def test_admin_sets_the_reader_features(app, admin_client):
    page = admin_client.get(SETTINGS).get_data(as_text=True)
    assert "Reports (from different readers)" in page
    response = _form(
        admin_client,
        report_threshold="2",
        edit_window_seconds="0",
        default_sort="newest",
        max_reply_depth="3",
    )
    assert response.status_code == 302
    site = _news(app)
    assert (site.report_threshold, site.edit_window_seconds) == (2, 0)
    assert (site.default_sort, site.max_reply_depth) == ("newest", 3)
    assert _form(admin_client, max_reply_depth="20").status_code == 422
    assert _news(app).max_reply_depth == 3


def test_bad_settings_are_explained_and_nothing_changes(app, admin_client):
    response = _form(
        admin_client, allowed_origins="not an origin", post_rate_limit="lots"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "is not an origin" in page
    assert "is not a rate limit" in page
    assert _news(app).allowed_origins == ["https://news.example"]


def test_the_spam_filter_settings_are_explained_and_kept(app, admin_client):
    page = admin_client.get(SETTINGS).get_data(as_text=True)
    # A new site: the starter model's own thresholds are in force.
    assert "In force now: stored as spam at <strong>0.95</strong>" in page
    assert "held at <strong>0.40</strong>" in page
    response = _form(admin_client, spam_threshold="abc", spam_hold_threshold="2")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count("A probability above 0 and at most 1 (like 0.8)") == 2
    assert "Nothing was saved: correct the fields marked below." in page
    assert "could not convert" not in page
    assert _news(app).spam_threshold is None
    response = _form(admin_client, spam_threshold="0.8", spam_hold_threshold="")
    assert response.status_code == 302
    site = _news(app)
    assert (site.spam_threshold, site.spam_hold_threshold) == (0.8, None)
    page = admin_client.get(SETTINGS).get_data(as_text=True)
    assert "In force now: stored as spam at <strong>0.80</strong>" in page
    assert _form(admin_client, spam_threshold="").status_code == 302
    assert _news(app).spam_threshold is None


def test_moderators_cannot_reach_admin_pages(app, mod_client):
    for path in (SETTINGS, "/moderation/sites", "/moderation/moderators"):
        assert mod_client.get(path).status_code == 403


def test_admin_creates_a_site_and_a_moderator(app, admin_client):
    page = admin_client.get("/moderation/sites").get_data(as_text=True)
    response = admin_client.post(
        "/moderation/sites",
        data={
            "csrf_token": csrf_from(page),
            "slug": "daily",
            "name": "The Daily",
            "allowed_origins": "https://daily.example",
        },
    )
    assert response.status_code == 302
    page = admin_client.get("/moderation/moderators").get_data(as_text=True)
    response = admin_client.post(
        "/moderation/moderators",
        data={
            "csrf_token": csrf_from(page),
            "username": "newbie",
            "password": "correct horse battery",
            "sites": ["daily"],
        },
    )
    assert response.status_code == 302
    with app.app_context():
        newbie = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "newbie")
        )
        assert [s.slug for s in newbie.sites] == ["daily"]
    logged_in_client(app, "newbie")
    duplicate = admin_client.post(
        "/moderation/sites",
        data={"csrf_token": csrf_from(page), "slug": "daily", "name": "Again"},
    )
    assert duplicate.status_code == 422
    assert "is taken" in duplicate.get_data(as_text=True)


def test_a_settings_post_without_the_origins_field_is_explained(app, admin_client):
    page = admin_client.get(SETTINGS).get_data(as_text=True)
    response = admin_client.post(
        SETTINGS, data={"csrf_token": csrf_from(page), "name": "Example News"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter the allowed origins, one per line." in page
    assert _news(app).allowed_origins == ["https://news.example"]

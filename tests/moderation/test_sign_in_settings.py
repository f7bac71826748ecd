"""The "Readers' sign-in" section of a site's settings page: saved, checked,
audited; the SSO secret created or rotated and shown once."""

import re
import time

import jwt
import sqlalchemy as sa
from factories import comment_payload, get_site

from commentsvc import accounts
from commentsvc.extensions import db
from commentsvc.models import AuditEntry

from .conftest import csrf_from

PAGE = "/moderation/sites/news/settings"
API = "/api/v1/sites/news/comments"


def sign_in_form(client, **changes):
    html = client.get(PAGE).get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(html),
        "guests_allowed": "y",
        "sso_skip_captcha": "y",
        "new_account_min_approved": "2",
        "rejected_hold_ratio": "0.3",
        "sso_algorithm": "HS256",
        "sso_public_key": "",
        "oidc_issuer": "",
        "oidc_client_id": "",
        "oidc_client_secret": "",
        "oidc_label": "",
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/moderation/sites/news/sign-in", data=data)


def settings(app):
    with app.app_context():
        site = get_site("news")
        return accounts.sign_in_settings(site.id, site.slug)


def test_the_page_shows_the_section(admin_client):
    html = admin_client.get(PAGE).get_data(as_text=True)

    assert '<h2 id="sign-in-title">Readers\' sign-in</h2>' in html
    assert "Create the SSO secret" in html
    assert 'name="new_account_min_approved" type="number" value="2"' in html


def test_saving_the_section(app, admin_client):
    response = sign_in_form(
        admin_client,
        guests_allowed=None,
        email_sign_in="y",
        new_account_min_approved="4",
        rejected_hold_ratio="0.5",
        oidc_issuer="https://id.example",
        oidc_client_id="comments",
        oidc_client_secret="s3cret",
        oidc_label="Example ID",
    )

    assert response.status_code == 302
    now = settings(app)
    assert (now.guests_allowed, now.email_sign_in) == (False, True)
    assert (now.new_account_min_approved, now.rejected_hold_ratio) == (4, 0.5)
    assert (now.oidc_issuer, now.oidc_client_secret) == ("https://id.example", "s3cret")
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.kind == "site.sign_in")
        ).one()
        assert entry.changes["oidc_client_secret"] == "changed"
        assert "s3cret" not in str(entry.changes)
    # The secret is write-only: left empty, it is kept.
    html = admin_client.get(PAGE).get_data(as_text=True)
    assert "s3cret" not in html
    sign_in_form(admin_client, oidc_issuer="https://id.example")
    assert settings(app).oidc_client_secret == "s3cret"


def test_bad_values_are_refused_with_a_message(app, admin_client):
    for field, value, said in [
        ("rejected_hold_ratio", "1.5", "between 0 and 1"),
        ("new_account_min_approved", "101", "between 0 and 100"),
        ("oidc_issuer", "javascript:alert(1)", "issuer"),
        ("sso_algorithm", "RS256", "public key"),
    ]:
        response = sign_in_form(admin_client, **{field: value})

        assert response.status_code == 422, field
        assert said in response.get_data(as_text=True), field
    assert settings(app).rejected_hold_ratio == 0.3
    assert settings(app).sso_algorithm == "HS256"


def test_moderators_cannot_change_sign_in(mod_client):
    html = mod_client.get("/moderation/queue").get_data(as_text=True)

    response = mod_client.post(
        "/moderation/sites/news/sso-secret", data={"csrf_token": csrf_from(html)}
    )

    assert response.status_code == 403


def test_the_secret_is_shown_once_and_signs_tokens(app, admin_client, client):
    html = admin_client.get(PAGE).get_data(as_text=True)

    response = admin_client.post(
        "/moderation/sites/news/sso-secret", data={"csrf_token": csrf_from(html)}
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(
        r'<code class="secret" id="sso-secret">([^<]+)</code>',
        response.get_data(as_text=True),
    ).group(1)
    assert settings(app).sso_secret == secret
    assert secret not in admin_client.get(PAGE).get_data(as_text=True)
    now = int(time.time())
    claims = {"sub": "u-1", "name": "Sam", "aud": "news", "exp": now + 60}
    payload = comment_payload(author=None, email=None)
    posted = client.post(API, json={**payload, "sso_token": jwt.encode(claims, secret)})
    assert posted.status_code == 202

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
        "/moderation/sites/news/sso-secret",
        data={"csrf_token": csrf_from(html)},
        follow_redirects=True,
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


# --- the secret's page and the 422 page keep the rest of the page intact -------


SETTINGS_FORM = re.compile(r'<form method="post"[^>]*class="settings"[^>]*>')


def rotate(client):
    html = client.get(PAGE).get_data(as_text=True)
    return client.post(
        "/moderation/sites/news/sso-secret", data={"csrf_token": csrf_from(html)}
    )


def shown_secret(html: str) -> str | None:
    found = re.search(r'<code class="secret" id="sso-secret">([^<]+)</code>', html)
    return found.group(1) if found else None


def test_rotating_redirects_to_a_page_shown_once(app, admin_client):
    response = rotate(admin_client)

    # POST, redirect, GET: reloading the page that shows the secret never
    # posts the rotation again.
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/moderation/sites/news/sso-secret")
    shown = admin_client.get("/moderation/sites/news/sso-secret")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    html = shown.get_data(as_text=True)
    secret = shown_secret(html)
    assert secret and settings(app).sso_secret == secret
    # Neither the session cookie nor a URL carries it.
    assert secret not in response.headers.get("Set-Cookie", "")
    assert secret not in response.headers["Location"]
    # The page has no form that rotates (or saves anything else).
    assert "/sso-secret" not in html.split('id="sso-secret"')[1]
    assert 'class="settings"' not in html
    # Reloaded: the secret is not shown again and has not changed.
    again = admin_client.get("/moderation/sites/news/sso-secret", follow_redirects=True)
    assert secret not in again.get_data(as_text=True)
    assert "shown once" in again.get_data(as_text=True)
    assert settings(app).sso_secret == secret


def test_the_secret_is_shown_only_to_the_admin_who_rotated_it(app, admin_client):
    with app.app_context():
        from commentsvc.models import Role
        from commentsvc.moderation.accounts import create_moderator

        create_moderator("boss2", "correct horse battery", role=Role.ADMIN)
    from .conftest import logged_in_client

    other = logged_in_client(app, "boss2")
    rotate(admin_client)

    html = other.get("/moderation/sites/news/sso-secret", follow_redirects=True)

    assert shown_secret(html.get_data(as_text=True)) is None
    assert shown_secret(
        admin_client.get("/moderation/sites/news/sso-secret").get_data(as_text=True)
    )


def test_a_secret_rotated_again_elsewhere_is_not_shown(app, admin_client):
    rotate(admin_client)
    with app.app_context():
        accounts.rotate_sso_secret(get_site("news"))  # the command line, meanwhile

    html = admin_client.get(
        "/moderation/sites/news/sso-secret", follow_redirects=True
    ).get_data(as_text=True)

    assert shown_secret(html) is None
    assert "rotated again" in html


def test_while_redis_is_down_the_secret_is_not_rotated(app, admin_client):
    import redis

    before = settings(app).sso_secret
    real = app.extensions["commentsvc.redis"]
    # A real client of a port where nothing listens.
    app.extensions["commentsvc.redis"] = redis.Redis(
        port=1, socket_connect_timeout=0.5, socket_timeout=0.5
    )
    try:
        response = rotate(admin_client)
    finally:
        app.extensions["commentsvc.redis"].close()
        app.extensions["commentsvc.redis"] = real

    assert response.status_code == 303
    assert settings(app).sso_secret == before
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert "nothing changed" in page


def _main_form(html: str) -> str:
    return html.split('<section id="sign-in"')[0]


def _assert_main_form_from_the_site(html: str) -> None:
    main = _main_form(html)
    form = SETTINGS_FORM.search(main).group(0)
    assert 'action="/moderation/sites/news/settings"' in form
    assert "[&#39;" not in main and "['" not in main
    assert "\nhttps://news.example</textarea>" in main
    # The stored checkboxes (the learning spam filter is on by default).
    box = re.search(r'<input[^>]*id="spam_filter_enabled"[^>]*>', main).group(0)
    assert "checked" in box


def test_the_settings_form_always_posts_to_the_settings(admin_client):
    html = admin_client.get(PAGE).get_data(as_text=True)

    _assert_main_form_from_the_site(html)


def test_a_refused_sign_in_save_keeps_the_other_sections(app, admin_client):
    response = sign_in_form(
        admin_client, rejected_hold_ratio="1.5", oidc_label="Typed label"
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    _assert_main_form_from_the_site(html)
    # The sign-in section shows what was typed, with the error.
    assert 'value="Typed label"' in html and "between 0 and 1" in html
    # The secret's button still posts to the rotation, and nothing is shown.
    assert 'action="/moderation/sites/news/sso-secret"' in html
    assert shown_secret(html) is None

"""Managing moderator accounts in the admin UI, and a moderator's own password."""

import sqlalchemy as sa
from crawl import csrf_from, log_in

from commentsvc.extensions import db
from commentsvc.models import Moderator, Role
from commentsvc.moderation.accounts import create_moderator

from .conftest import PASSWORD, logged_in_client

NEW_PASSWORD = "another long passphrase"


def _id(app, username):
    with app.app_context():
        return db.session.scalar(
            sa.select(Moderator.id).where(Moderator.username == username)
        )


def _row(app, username):
    with app.app_context():
        moderator = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == username)
        )
        moderator.site_slugs = sorted(s.slug for s in moderator.sites)
        return moderator


def _post(client, path, page, **data):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def _page(app, username):
    return f"/moderation/moderators/{_id(app, username)}"


def test_the_list_links_each_account_with_its_state(app, admin_client):
    page = admin_client.get("/moderation/moderators").get_data(as_text=True)
    for username in ("boss", "mod", "blogger"):
        assert f'href="{_page(app, username)}"' in page
    account = admin_client.get(_page(app, "mod")).get_data(as_text=True)
    assert "mod" in account and "Deactivate" in account and "news" in account


def test_admin_deactivates_and_reactivates_a_moderator(app, admin_client):
    page = _page(app, "mod")
    response = _post(admin_client, page + "/deactivate", page)
    assert response.status_code == 302
    assert "Deactivated mod" in admin_client.get(page).get_data(as_text=True)
    assert _row(app, "mod").active is False
    client = app.test_client()
    login = client.get("/moderation/login").get_data(as_text=True)
    refused = client.post(
        "/moderation/login",
        data={"username": "mod", "password": PASSWORD, "csrf_token": csrf_from(login)},
    )
    assert refused.status_code == 401
    _post(admin_client, page + "/reactivate", page)
    assert _row(app, "mod").active is True
    log_in(app, "mod", PASSWORD)


def test_one_button_posts_need_their_csrf_token(app, admin_client):
    page = _page(app, "mod")
    assert admin_client.post(page + "/deactivate", data={}).status_code == 400
    assert _row(app, "mod").active is True


def test_an_admin_cannot_deactivate_themselves_or_the_last_admin(app, admin_client):
    page = _page(app, "boss")
    response = _post(admin_client, page + "/deactivate", page)
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert _row(app, "boss").active is True
    with app.app_context():
        create_moderator("chief", PASSWORD, role=Role.ADMIN)
    chief = logged_in_client(app, "chief")
    # Another admin may (the instance keeps an active admin).
    assert _post(chief, page + "/deactivate", page).status_code == 302
    assert _row(app, "boss").active is False


def test_the_last_active_admin_cannot_be_deactivated(app, admin_client, runner):
    result = runner.invoke(args=["moderators", "deactivate", "boss"])
    assert result.exit_code != 0
    assert "last active admin" in result.output
    assert _row(app, "boss").active is True


def test_admin_resets_a_password_and_the_old_one_stops_working(app, admin_client):
    page = _page(app, "mod")
    victim = logged_in_client(app, "mod")
    response = _post(admin_client, page + "/password", page, new_password=NEW_PASSWORD)
    assert response.status_code == 302
    assert victim.get("/moderation/queue").status_code == 302
    log_in(app, "mod", NEW_PASSWORD)
    short = _post(admin_client, page + "/password", page, new_password="short")
    assert short.status_code == 422
    assert "at least 10 characters" in short.get_data(as_text=True)


def test_admin_changes_a_moderators_sites(app, admin_client):
    page = _page(app, "mod")
    response = _post(admin_client, page + "/sites", page, sites=["news", "blog"])
    assert response.status_code == 302
    assert _row(app, "mod").site_slugs == ["blog", "news"]
    response = _post(admin_client, page + "/sites", page)
    assert response.status_code == 302
    assert _row(app, "mod").site_slugs == []
    unknown = _post(admin_client, page + "/sites", page, sites=["nope"])
    assert unknown.status_code == 422
    assert _row(app, "mod").site_slugs == []


def test_bad_input_is_a_message_never_a_500(app, admin_client):
    assert admin_client.get("/moderation/moderators/999999").status_code == 404
    assert admin_client.get("/moderation/moderators/x").status_code == 404
    page = _page(app, "mod")
    for path, data in [
        ("/password", {}),
        ("/password", {"new_password": "x" * 5000}),
        ("/sites", {"sites": "\x00"}),
    ]:
        response = _post(admin_client, page + path, page, **data)
        assert response.status_code == 422, (path, data)
    gone = _post(admin_client, "/moderation/moderators/999999/deactivate", page)
    assert gone.status_code == 404


def test_moderators_cannot_manage_accounts(app, mod_client):
    page = _page(app, "blogger")
    assert mod_client.get(page).status_code == 403
    token = csrf_from(mod_client.get("/moderation/queue").get_data(as_text=True))
    for action in ("/deactivate", "/reactivate", "/password", "/sites"):
        response = mod_client.post(page + action, data={"csrf_token": token})
        assert response.status_code == 403
    assert _row(app, "blogger").active is True


def test_a_moderator_changes_their_own_password(app, mod_client):
    page = "/moderation/account/password"
    assert mod_client.get(page).status_code == 200
    wrong = _post(
        mod_client,
        page,
        page,
        current_password="not my password",
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    assert wrong.status_code == 422
    assert "Your current password is wrong." in wrong.get_data(as_text=True)
    mismatch = _post(
        mod_client,
        page,
        page,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD + "x",
    )
    assert mismatch.status_code == 422
    log_in(app, "mod", PASSWORD)  # unchanged so far
    ok = _post(
        mod_client,
        page,
        page,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    assert ok.status_code == 302
    log_in(app, "mod", NEW_PASSWORD)


def test_your_own_account_page_offers_no_deactivation(app, admin_client):
    own = admin_client.get(_page(app, "boss")).get_data(as_text=True)
    assert "Deactivate</button>" not in own
    assert 'href="/moderation/account/password"' in own
    other = admin_client.get(_page(app, "mod")).get_data(as_text=True)
    assert "Deactivate</button>" in other


def test_passwords_take_the_configured_argon2_profile_and_a_login_rehashes(app):
    """Production hashes with RFC 9106's low-memory parameters; the suite's
    cheapest ones are rehashed at the first login under production's."""
    from argon2 import extract_parameters, profiles

    from commentsvc.moderation.accounts import authenticate

    with app.app_context():
        create_moderator("hasher", PASSWORD)
        stored = _row(app, "hasher").password_hash
        assert extract_parameters(stored).memory_cost == profiles.CHEAPEST.memory_cost
        app.config["PASSWORD_HASH_PROFILE"] = "rfc_9106_low_memory"
        try:
            assert authenticate("hasher", PASSWORD) is not None
            assert authenticate("hasher", "not the password") is None
        finally:
            app.config["PASSWORD_HASH_PROFILE"] = "cheapest"
    rehashed = extract_parameters(_row(app, "hasher").password_hash)
    production = profiles.RFC_9106_LOW_MEMORY
    assert (rehashed.memory_cost, rehashed.time_cost) == (
        production.memory_cost,
        production.time_cost,
    )

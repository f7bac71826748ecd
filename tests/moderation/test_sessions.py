"""Logging out, a password change and deactivation end every session of that
moderator, including copies of the session cookie."""

from crawl import csrf_from

from .conftest import PASSWORD, logged_in_client

QUEUE = "/moderation/queue"
NEW_PASSWORD = "a brand new passphrase"


def _copy(app, client):
    """Another client holding a copy of *client*'s session cookie."""
    cookie = client.get_cookie("commentsvc_session")
    copy = app.test_client()
    copy.set_cookie("commentsvc_session", cookie.value)
    assert copy.get(QUEUE).status_code == 200
    return copy


def _post(client, path, page=QUEUE, **data):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def _shut_out(client) -> bool:
    response = client.get(QUEUE)
    return response.status_code == 302 and "/moderation/login" in response.location


def test_a_copied_cookie_dies_at_logout(app, two_sites):
    client = logged_in_client(app, "mod")
    copy = _copy(app, client)
    other_login = logged_in_client(app, "mod")
    assert _post(client, "/moderation/logout").status_code == 302
    assert _shut_out(client)
    assert _shut_out(copy)
    # Logging out ends all of the moderator's sessions, on every device.
    assert _shut_out(other_login)
    # Another moderator's session lives on.
    assert logged_in_client(app, "blogger").get(QUEUE).status_code == 200
    # And a fresh login works.
    assert logged_in_client(app, "mod").get(QUEUE).status_code == 200


def test_a_password_change_ends_the_other_sessions(app, two_sites):
    client = logged_in_client(app, "mod")
    elsewhere = logged_in_client(app, "mod")
    copy = _copy(app, elsewhere)
    page = "/moderation/account/password"
    response = _post(
        client,
        page,
        page=page,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    assert response.status_code == 302
    # The session that changed it stays logged in; every other one ends.
    assert client.get(QUEUE).status_code == 200
    assert _shut_out(elsewhere)
    assert _shut_out(copy)
    from crawl import log_in

    log_in(app, "mod", NEW_PASSWORD)


def test_deactivation_by_an_admin_ends_the_sessions(app, admin_client):
    from commentsvc.extensions import db
    from commentsvc.models import Moderator

    victim = logged_in_client(app, "mod")
    with app.app_context():
        mod_id = db.session.scalar(db.select(Moderator.id).filter_by(username="mod"))
    page = f"/moderation/moderators/{mod_id}"
    response = _post(
        admin_client, f"/moderation/moderators/{mod_id}/deactivate", page=page
    )
    assert response.status_code == 302
    assert _shut_out(victim)
    # Reactivated, the old session stays dead: a new login is needed.
    _post(admin_client, f"/moderation/moderators/{mod_id}/reactivate", page=page)
    assert _shut_out(victim)
    assert logged_in_client(app, "mod").get(QUEUE).status_code == 200


def test_a_cookie_of_the_old_format_is_refused(app, two_sites):
    """Sessions made before generations existed carried the bare id."""
    client = logged_in_client(app, "mod")
    with client.session_transaction() as session:
        session["_user_id"] = session["_user_id"].split(":")[0]
    assert _shut_out(client)

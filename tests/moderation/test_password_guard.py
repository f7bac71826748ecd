"""The own-password form is no password oracle: wrong current passwords count
like failed logins (the same guard), and a few of them end the session."""

import re

import pytest
from crawl import csrf_from, log_in

from commentsvc.comments.errors import ValidationFailed
from commentsvc.moderation.accounts import authenticate, create_moderator

from .conftest import PASSWORD

PAGE = "/moderation/account/password"
NEW = "a brand new passphrase"
WRONG = "Your current password is wrong."
LOCKED = "Too many wrong current passwords"
CAPTCHA = re.compile(r'name="captcha_token" value="([^"]+)"')


def _change(client, current):
    page = client.get(PAGE)
    if page.status_code != 200:
        return page
    return client.post(
        PAGE,
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "current_password": current,
            "new_password": NEW,
            "confirm_password": NEW,
        },
    )


@pytest.mark.usefixtures("two_sites")
def test_forty_wrong_current_passwords_are_not_forty_checks(app):
    client = log_in(app, "mod", PASSWORD)
    elsewhere = log_in(app, "mod", PASSWORD)
    responses = [_change(client, f"guess number {n}") for n in range(40)]
    checked = [r for r in responses if WRONG in r.get_data(as_text=True)]
    assert len(checked) == app.config["PASSWORD_CHANGE_MAX_FAILURES"] - 1
    locked = responses[len(checked)]
    assert locked.status_code == 302 and "/moderation/login" in locked.location
    assert LOCKED in client.get(locked.location).get_data(as_text=True)
    # The session that guessed is over, and so is every other one: a stolen
    # cookie gets a handful of guesses, then nothing.
    for browser in (client, elsewhere):
        assert browser.get(PAGE).status_code == 302
    # The right password through the dead session changes nothing...
    assert _change(client, PASSWORD).status_code == 302
    # ...and the owner logs in again (their browser's device cookie spares
    # them the challenge the failures brought), with a fresh allowance.
    page = client.get("/moderation/login").get_data(as_text=True)
    data = {"username": "mod", "password": PASSWORD, "csrf_token": csrf_from(page)}
    assert client.post("/moderation/login", data=data).status_code == 302
    again = client
    assert WRONG in _change(again, "one more guess").get_data(as_text=True)
    assert _change(again, PASSWORD).status_code == 302
    with app.app_context():
        assert authenticate("mod", NEW) is not None


def test_wrong_current_passwords_count_as_failed_logins(make_app):
    app = make_app(CAPTCHA_DEV_ENABLED=True, LOGIN_CAPTCHA_AFTER=2)
    with app.app_context():
        create_moderator("mod", PASSWORD)
    client = log_in(app, "mod", PASSWORD)
    for n in range(2):
        assert WRONG in _change(client, f"guess number {n}").get_data(as_text=True)
    # The account is now guessed at: its next login needs the captcha.
    other = app.test_client()
    page = other.get("/moderation/login").get_data(as_text=True)
    response = other.post(
        "/moderation/login",
        data={"username": "mod", "password": PASSWORD, "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 401
    assert CAPTCHA.search(response.get_data(as_text=True))


def test_past_the_limit_not_even_the_right_password_is_checked(make_app):
    """Requests already past the login check when the sessions end (forty sent
    at once) are counted before any password check: none gets one."""
    from commentsvc.moderation import login_guard
    from commentsvc.moderation.accounts import get_moderator

    app = make_app(PASSWORD_CHANGE_MAX_FAILURES=2)
    with app.app_context():
        create_moderator("mod", PASSWORD)
        mod = get_moderator("mod")
        with pytest.raises(ValidationFailed):
            login_guard.change_own_password(mod, "guess number 1", NEW)
        for current in ("guess number 2", PASSWORD):
            with pytest.raises(login_guard.PasswordFormLocked):
                login_guard.change_own_password(mod, current, NEW)
    log_in(app, "mod", PASSWORD)  # the password is unchanged

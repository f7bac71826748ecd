"""Readers' accounts in the moderation UI: the account page (moderators of
its site only), suspensions with an end and a reason the reader is shown,
bans, staff, the account on the queue's cards, and the trust signals'
sentences."""

import re
import time
from datetime import timedelta

import jwt
import pytest
import sqlalchemy as sa
from factories import comment_payload, get_site

from commentsvc import accounts, sites
from commentsvc.accounts import sessions
from commentsvc.extensions import db
from commentsvc.models import Account, AuditEntry, Comment, utcnow

from .conftest import csrf_from

API = "/api/v1/sites/news/comments"
SECRET = "a-test-secret-of-the-site-32-bytes-long!"
_n = iter(range(1_000_000))


@pytest.fixture
def sso_site(app, two_sites):
    with app.app_context():
        site = get_site("news")
        accounts.change_settings(site.id, site.slug, sso_secret=SECRET)


def token(sub="u-42", name="Sam Subscriber"):
    now = int(time.time())
    claims = {"sub": sub, "name": name, "aud": "news", "iat": now, "exp": now + 600}
    return jwt.encode(claims, SECRET)


def post(client, sso=None, **fields):
    body = f"A comment from a subscriber, number {next(_n)}."
    payload = comment_payload(author=None, email=None, body=body, **fields)
    return client.post(API, json={**payload, "sso_token": sso or token()})


@pytest.fixture
def account_id(app, client, sso_site):
    assert post(client).status_code == 202
    with app.app_context():
        return db.session.scalars(sa.select(Account.id)).one()


def act(client, account_id, action, **data):
    page = client.get(f"/moderation/accounts/{account_id}").get_data(as_text=True)
    return client.post(
        f"/moderation/accounts/{account_id}/{action}",
        data={"csrf_token": csrf_from(page), **data},
        follow_redirects=True,
    )


def read_account(app, account_id) -> Account:
    with app.app_context():
        account = db.session.get(Account, account_id)
        db.session.expunge(account)
        return account


# --- the account page ---------------------------------------------------------


def test_the_account_page_shows_the_account_and_its_history(
    mod_client, client, account_id
):
    post(client)

    page = mod_client.get(f"/moderation/accounts/{account_id}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sam Subscriber" in html and "<code>u-42</code>" in html
    assert "the site&#39;s own account (SSO)" in html
    assert '<span class="badge status-pending">pending 2</span>' in html
    assert html.count("A comment from a subscriber") == 2


def test_history_pages_newest_first(app, mod_client, client, account_id):
    for _ in range(21):
        post(client)
    with app.app_context():
        ids = db.session.scalars(
            sa.select(Comment.id).order_by(Comment.id.desc())
        ).all()

    first = mod_client.get(f"/moderation/accounts/{account_id}").get_data(as_text=True)
    assert f"#{ids[0]}<" in first and f"#{ids[19]}<" in first
    assert f"#{ids[20]}<" not in first
    second = mod_client.get(
        f"/moderation/accounts/{account_id}?before={ids[19]}"
    ).get_data(as_text=True)
    assert f"#{ids[20]}<" in second and f"#{ids[21]}<" in second
    assert f"#{ids[19]}<" not in second and "Older comments" not in second


@pytest.mark.parametrize("who, status", [("blogger", 403), ("boss", 200)])
def test_only_moderators_of_its_site_see_an_account(
    app, client, account_id, who, status
):
    from .conftest import logged_in_client

    other = logged_in_client(app, who)

    assert other.get(f"/moderation/accounts/{account_id}").status_code == status


def test_another_site_s_moderator_cannot_act(app, client, account_id, mod_client):
    from .conftest import logged_in_client

    blogger = logged_in_client(app, "blogger")
    html = blogger.get("/moderation/queue").get_data(as_text=True)

    response = blogger.post(
        f"/moderation/accounts/{account_id}/ban",
        data={"csrf_token": csrf_from(html), "reason": "no"},
    )

    assert response.status_code == 403
    assert read_account(app, account_id).banned is False


def test_an_unknown_account_is_404(mod_client):
    assert mod_client.get("/moderation/accounts/999999").status_code == 404


# --- suspensions ----------------------------------------------------------------


def test_a_suspended_account_is_told_until_when_and_why(
    app, mod_client, client, account_id
):
    before = utcnow()
    page = act(mod_client, account_id, "suspend", span="7d", reason="Insults")

    assert "is suspended until" in page.get_data(as_text=True)
    refused = post(client)
    assert refused.status_code == 403
    error = refused.json["error"]
    assert error["code"] == "account_suspended"
    assert error["reason"] == "Insults"
    assert error["until"].startswith(str((before + timedelta(days=7)).date()))
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.kind == "reader.suspended")
        ).one()
        assert entry.target_id == account_id and entry.changes["reason"] == "Insults"


def test_a_suspension_until_a_date_ends_that_day(app, mod_client, account_id):
    day = (utcnow() + timedelta(days=3)).date()

    act(mod_client, account_id, "suspend", span="date", until=str(day), reason="x")

    until = read_account(app, account_id).suspended_until
    assert (until.date(), until.hour, until.minute) == (day, 23, 59)


@pytest.mark.parametrize(
    "data, said",
    [
        ({"span": "7d", "reason": ""}, "Say why"),
        ({"span": "date", "until": "", "reason": "x"}, "Choose the date"),
        ({"span": "date", "until": "2001-01-01", "reason": "x"}, "in the future"),
        ({"span": "forever", "reason": "x"}, "Not a valid choice"),
    ],
)
def test_a_suspension_needs_a_reason_and_an_end(
    app, mod_client, account_id, data, said
):
    page = act(mod_client, account_id, "suspend", **data)

    assert said in page.get_data(as_text=True)
    assert read_account(app, account_id).suspended_until is None


def test_a_suspension_ends_by_itself(app, client, mod_client, account_id):
    act(mod_client, account_id, "suspend", span="1d", reason="Cool down")
    assert post(client).status_code == 403
    with app.app_context():
        account = db.session.get(Account, account_id)
        # A day later: the end is past.
        account.suspended_until = utcnow() - timedelta(seconds=1)
        db.session.commit()

    assert post(client).status_code == 202
    html = mod_client.get(f"/moderation/accounts/{account_id}").get_data(as_text=True)
    assert "May comment" in html


def test_lifting_a_suspension(app, client, mod_client, account_id):
    act(mod_client, account_id, "suspend", span="30d", reason="Cool down")

    page = act(mod_client, account_id, "lift", reason="Apologised")

    assert "is lifted" in page.get_data(as_text=True)
    assert post(client).status_code == 202


# --- bans -------------------------------------------------------------------------


def test_a_banned_account_is_refused_and_signed_out(
    app, client, mod_client, account_id
):
    with app.app_context():
        session_token = sessions.issue(account_id)
        db.session.commit()

    act(mod_client, account_id, "ban", reason="Spam account")

    refused = post(client)
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "account_banned"
    assert refused.json["error"]["reason"] == "Spam account"
    with app.app_context():
        assert sessions.resolve(session_token) is None


def test_unbanning(app, client, mod_client, account_id):
    act(mod_client, account_id, "ban", reason="Mistake")

    act(mod_client, account_id, "unban")

    assert post(client).status_code == 202
    with app.app_context():
        kinds = db.session.scalars(
            sa.select(AuditEntry.kind).order_by(AuditEntry.id)
        ).all()
        assert kinds[-2:] == ["reader.banned", "reader.unbanned"]


# --- staff ------------------------------------------------------------------------


def test_a_staff_account_is_published_with_the_badge(
    app, client, mod_client, account_id
):
    with app.app_context():
        sites.update_site("news", min_submit_seconds=0)
    act(mod_client, account_id, "staff", staff="on")

    # As the embed posts: with its form token (else held, as anyone's).
    form_token = client.post("/api/v1/sites/news/form-token").json["token"]
    response = post(client, form_token=form_token)

    assert response.json["status"] == "approved"
    listing = client.get(f"{API}?thread=/article").json
    badges = {item["id"]: item.get("badge") for item in listing["comments"]}
    assert badges[response.json["id"]] == "staff"
    act(mod_client, account_id, "staff", staff="off")
    assert read_account(app, account_id).staff is False


# --- the queue --------------------------------------------------------------------


def test_the_queue_shows_the_account_and_why_it_waits(mod_client, account_id):
    html = mod_client.get("/moderation/queue").get_data(as_text=True)

    assert f'href="/moderation/accounts/{account_id}"' in html
    assert "Sam Subscriber <small>(sso)</small>" in html
    assert "A new account: 0 of its comments approved" in html
    assert "No captcha asked: the author is signed in" in html


def test_the_queue_marks_a_suspended_account(mod_client, account_id):
    act(mod_client, account_id, "suspend", span="1d", reason="x")

    html = mod_client.get("/moderation/queue").get_data(as_text=True)

    assert "Account suspended" in html


def test_the_audit_trail_names_the_account_with_a_link(mod_client, account_id):
    act(mod_client, account_id, "suspend", span="1d", reason="Insults")
    act(mod_client, account_id, "staff", staff="on", reason="Our columnist")

    html = mod_client.get("/moderation/audit?kind=readers").get_data(as_text=True)

    link = f'<a href="/moderation/accounts/{account_id}">Sam Subscriber (sso)</a>'
    assert f"Suspended the reader account {link}" in html
    assert "reason: Insults" in html
    assert f"Changed the staff badge of the reader account {link}" in html
    assert "staff: False → True" in html


def test_the_account_page_has_no_duplicate_ids(mod_client, account_id):
    html = mod_client.get(f"/moderation/accounts/{account_id}").get_data(as_text=True)

    ids = [i for i in re.findall(r'\bid="([^"]+)"', html) if i != "csrf_token"]
    assert sorted(ids) == sorted(set(ids)), ids
    assert '<label for="suspend-reason">' in html
    assert '<label for="ban-reason">' in html


def test_the_account_page_shows_the_avatar_url_as_a_link(
    app, mod_client, client, sso_site
):
    now = int(time.time())
    avatar = "https://news.example/avatars/u-42.png?size=64"
    claims = {"sub": "u-42", "name": "Sam", "aud": "news", "iat": now, "exp": now + 60}
    assert post(client, jwt.encode({**claims, "avatar": avatar}, SECRET)).status_code
    with app.app_context():
        account_id = db.session.scalars(sa.select(Account.id)).one()

    html = mod_client.get(f"/moderation/accounts/{account_id}").get_data(as_text=True)

    shown = avatar.replace("&", "&amp;")
    assert f'<a href="{shown}" rel="noopener noreferrer nofollow">{shown}</a>' in html
    # Never fetched: no image of a third party under our CSP.
    assert "<img" not in html


def test_an_account_without_avatar_says_so(mod_client, account_id):
    html = mod_client.get(f"/moderation/accounts/{account_id}").get_data(as_text=True)

    assert "<dt>Avatar</dt><dd>none given</dd>" in html

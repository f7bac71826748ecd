"""Posting as the site's own user: a JWT the site signs (sso_token), checked
and refused with 403 sso_invalid / sso_expired, and trust per account."""

import time

import jwt
import pytest
import sqlalchemy as sa
from factories import comment_payload, make_site

from commentsvc import accounts
from commentsvc.extensions import db
from commentsvc.models import Account, Comment, CommentStatus, ModerationPolicy

API = "/api/v1/sites/news/comments"
SECRET = "a-test-secret-of-the-site-32-bytes-long!"


@pytest.fixture
def site(app):
    with app.app_context():
        site = make_site(captcha_provider="dev")
        accounts.change_settings(site.id, site.slug, sso_secret=SECRET)


def token(secret=SECRET, **claims):
    now = int(time.time())
    body = {"sub": "u-42", "name": "Sam Subscriber", "aud": "news", "iat": now}
    body["exp"] = now + 600
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret)


def post(client, sso, **fields):
    payload = comment_payload(author=None, email=None, **fields)
    return client.post(API, json={**payload, "sso_token": sso})


def post_with_form_token(client, sso, **fields):
    """As the embed posts: with the form's time-trap token (else it is held)."""
    form_token = client.post("/api/v1/sites/news/form-token").json["token"]
    return post(client, sso, form_token=form_token, **fields)


def test_a_signed_in_user_posts_without_name_email_or_captcha(app, client, site):
    response = post(client, token(email="Sam@Example.org"))

    assert response.status_code == 202, response.json
    with app.app_context():
        comment = db.session.scalars(sa.select(Comment)).one()
        account = db.session.get(Account, comment.account_id)
        assert (comment.author, comment.email) == ("Sam Subscriber", "sam@example.org")
        assert (account.provider, account.subject) == ("sso", "u-42")
        assert comment.signals["captcha"] == "signed_in"
        assert comment.signals["held"]["new_account"] == {"approved": 0, "needed": 2}


def test_the_token_s_name_wins_over_typed_fields(app, client, site):
    payload = comment_payload(author="Someone Else", email="else@example.org")
    response = client.post(API, json={**payload, "sso_token": token()})

    assert response.status_code == 202
    with app.app_context():
        comment = db.session.scalars(sa.select(Comment)).one()
        assert (comment.author, comment.email) == ("Sam Subscriber", None)


@pytest.mark.parametrize(
    "sso",
    [
        token(secret="another-secret-entirely-of-32-bytes!!"),
        token(aud="other-site"),
        token(sub=None),
        token(exp=None),
        token(name=""),
        "not.a.jwt",
        jwt.encode({"sub": "x", "name": "X", "aud": "news", "exp": 9e9}, None, "none"),
    ],
    ids=["forged", "other-site", "no-sub", "no-exp", "no-name", "garbage", "alg-none"],
)
def test_a_bad_token_is_refused_sso_invalid_and_nothing_is_stored(
    app, client, site, sso
):
    response = post(client, sso)

    assert response.status_code == 403
    assert response.json["error"]["code"] == "sso_invalid"
    assert "Your comment is kept" in response.json["error"]["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0


def test_an_expired_token_is_refused_sso_expired(client, site):
    response = post(client, token(exp=int(time.time()) - 120))

    assert response.status_code == 403
    assert response.json["error"]["code"] == "sso_expired"


def test_a_site_without_a_secret_refuses_tokens(app, client):
    with app.app_context():
        make_site(captcha_provider="dev")

    response = post(client, token())

    assert response.status_code == 403
    assert response.json["error"]["code"] == "sso_invalid"


def test_a_suspended_account_is_told_until_when_and_why(app, client, site):
    assert post(client, token()).status_code == 202
    with app.app_context():
        account = db.session.scalars(sa.select(Account)).one()
        account.suspended_until = accounts.readers.utcnow().replace(year=2099)
        account.suspension_reason = "Personal attacks"
        db.session.commit()

    response = post(client, token())

    assert response.status_code == 403
    error = response.json["error"]
    assert error["code"] == "account_suspended"
    assert error["reason"] == "Personal attacks"
    assert error["until"].startswith("2099-")


def test_a_new_account_is_held_until_two_approved_then_trusted(app, client):
    with app.app_context():
        site = make_site(
            captcha_provider="dev",
            moderation_policy=ModerationPolicy.TRUST_APPROVED_AUTHORS,
            min_submit_seconds=0,
        )
        accounts.change_settings(site.id, site.slug, sso_secret=SECRET)
    statuses = []
    for n in range(3):
        response = post_with_form_token(
            client, token(), body=f"Comment {n} from a subscriber."
        )
        statuses.append(response.json["status"])
        with app.app_context():
            db.session.execute(
                sa.update(Comment)
                .where(Comment.id == response.json["id"])
                .values(status=CommentStatus.APPROVED)
            )
            db.session.commit()

    assert statuses == ["pending", "pending", "approved"]


def test_mostly_rejected_accounts_are_held_again(app, client):
    with app.app_context():
        site = make_site(
            captcha_provider="dev",
            moderation_policy=ModerationPolicy.TRUST_APPROVED_AUTHORS,
            min_submit_seconds=0,
        )
        accounts.change_settings(
            site.id, site.slug, sso_secret=SECRET, new_account_min_approved=0
        )
    decided = [CommentStatus.APPROVED, CommentStatus.REJECTED, CommentStatus.REJECTED]
    for n, status in enumerate(decided):
        response = post_with_form_token(
            client, token(), body=f"Comment {n} from a subscriber."
        )
        with app.app_context():
            db.session.execute(
                sa.update(Comment)
                .where(Comment.id == response.json["id"])
                .values(status=status)
            )
            db.session.commit()

    response = post_with_form_token(client, token(), body="And one more.")

    assert response.json["status"] == "pending"
    with app.app_context():
        comment = db.session.get(Comment, response.json["id"])
        assert comment.signals["held"]["mostly_rejected"] == {"rejected": 2, "of": 3}


def test_a_site_without_guests_asks_to_sign_in(app, client):
    with app.app_context():
        site = make_site(captcha_provider="dev")
        accounts.change_settings(site.id, site.slug, guests_allowed=False)

    response = client.post(API, json=comment_payload())

    assert response.status_code == 403
    assert response.json["error"]["code"] == "sign_in_required"


def test_an_account_s_edit_of_a_published_comment_follows_its_own_trust(app, client):
    """A new account's edit of its published comment waits for a moderator
    (its history, not a typed address, decides)."""
    with app.app_context():
        site = make_site(
            captcha_provider="dev",
            moderation_policy=ModerationPolicy.TRUST_APPROVED_AUTHORS,
            min_submit_seconds=0,
        )
        accounts.change_settings(site.id, site.slug, sso_secret=SECRET)
    posted = post_with_form_token(client, token(), body="A fair point.")
    with app.app_context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == posted.json["id"])
            .values(status=CommentStatus.APPROVED)
        )
        db.session.commit()

    edited = client.patch(
        f"{API}/{posted.json['id']}",
        json={"body": "Buy pills now.", "edit_token": posted.json["edit_token"]},
    )

    assert edited.status_code == 200, edited.json
    assert edited.json["html"] == "<p>A fair point.</p>"
    with app.app_context():
        assert db.session.get(Comment, posted.json["id"]).body == "A fair point."


def test_a_trusted_account_s_edit_is_published_at_once(app, client):
    """No address in its token: only the account's history can trust it."""
    with app.app_context():
        site = make_site(
            captcha_provider="dev",
            moderation_policy=ModerationPolicy.TRUST_APPROVED_AUTHORS,
            min_submit_seconds=0,
        )
        accounts.change_settings(site.id, site.slug, sso_secret=SECRET)
    for n in range(2):
        response = post_with_form_token(client, token(), body=f"Point {n}.")
        with app.app_context():
            db.session.execute(
                sa.update(Comment)
                .where(Comment.id == response.json["id"])
                .values(status=CommentStatus.APPROVED)
            )
            db.session.commit()

    edited = client.patch(
        f"{API}/{response.json['id']}",
        json={"body": "Point 1, fixed.", "edit_token": response.json["edit_token"]},
    )

    assert edited.status_code == 200, edited.json
    assert edited.json["html"] == "<p>Point 1, fixed.</p>"


def test_the_site_s_token_opens_the_reader_s_own_account(app, client, site):
    """SSO readers have no session: /me takes the site's token as the bearer."""
    assert post(client, token(email="sam@example.org")).status_code == 202
    bearer = {"Authorization": f"Bearer {token()}"}

    me = client.get("/api/v1/sites/news/me", headers=bearer)
    assert me.status_code == 200
    assert me.json["account"]["provider"] == "sso"
    assert [c["status"] for c in me.json["comments"]] == ["pending"]
    export = client.get("/api/v1/sites/news/me/export", headers=bearer)
    assert export.json["comments"][0]["body"] == "A thoughtful comment."
    rename = client.patch("/api/v1/sites/news/me", json={"name": "X"}, headers=bearer)
    assert rename.status_code == 422
    assert (
        client.post("/api/v1/sites/news/me/sign-out", headers=bearer).status_code == 204
    )
    assert client.get("/api/v1/sites/news/me", headers=bearer).status_code == 200

    forged = {"Authorization": f"Bearer {token(secret='x' * 40)}"}
    refused = client.get("/api/v1/sites/news/me", headers=forged)
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "sso_invalid")

    erased = client.delete(
        "/api/v1/sites/news/me", json={"confirm": True}, headers=bearer
    )
    assert erased.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0


def test_a_token_that_lives_longer_than_a_day_is_refused(client, site):
    far = int(time.time()) + 2 * 86_400
    response = post(client, token(exp=far))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "sso_invalid"
    assert "longer than a day" in response.json["error"]["message"]
    assert post(client, token(exp=int(time.time()) + 86_000)).status_code == 202


def test_a_signed_in_reader_s_quick_post_is_held_not_spam(app, client):
    """The form's time trap holds a subscriber's quick paste for a moderator;
    it never files it as spam in their account's history."""
    with app.app_context():
        site = make_site(captcha_provider="dev", min_submit_seconds=30)
        accounts.change_settings(site.id, site.slug, sso_secret=SECRET)

    response = post_with_form_token(client, token(), body="Pasted at once.")

    assert response.json["status"] == "pending"
    with app.app_context():
        comment = db.session.get(Comment, response.json["id"])
        assert comment.status == CommentStatus.PENDING
        assert "too_fast" in comment.signals["held"]

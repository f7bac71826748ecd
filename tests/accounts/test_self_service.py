"""A signed-in reader's own account through the API: what it holds, renaming,
signing out, unsubscribing, the download and the erasure (with a
confirmation), and that nobody else's session reaches it."""

import pytest
import sqlalchemy as sa
from factories import ORIGIN, comment_payload, make_site

from commentsvc import accounts
from commentsvc.accounts import sessions
from commentsvc.extensions import db
from commentsvc.mail import outbox
from commentsvc.models import Account, Comment, CommentStatus, MailSubscription

API = "/api/v1/sites/news"


@pytest.fixture
def reader(app):
    """A site "news" (and "blog") and an e-mail account of news with a session;
    returns the session's headers."""
    with app.app_context():
        site = make_site(captcha_provider="dev")
        make_site("blog", "A Blog", captcha_provider="dev")
        account = accounts.find_or_create(
            site.id, "email", "rea@example.org", "Rea", "rea@example.org"
        )
        token = sessions.issue(account.id)
        db.session.commit()
    return {"Authorization": f"Bearer {token}", "Origin": ORIGIN}


def post(client, headers, **fields):
    payload = comment_payload(author=None, email=None, **fields)
    response = client.post(f"{API}/comments", json=payload, headers=headers)
    assert response.status_code == 202, response.json
    return response.json["id"]


def guest_comment(app, beside: int) -> None:
    """A guest's comment on the page of comment *beside* (stored as it is:
    this app has no dev captcha to pass)."""
    with app.app_context():
        mine = db.session.get(Comment, beside)
        db.session.add(
            Comment(
                site_id=mine.site_id,
                thread_id=mine.thread_id,
                author="A guest",
                body="A guest's.",
                body_html="<p>A guest's.</p>",
            )
        )
        db.session.commit()


def test_me_needs_a_session_of_this_site(app, client, reader):
    assert client.get(f"{API}/me").status_code == 401
    bad = {"Authorization": "Bearer not-a-session"}
    assert client.get(f"{API}/me", headers=bad).json["error"]["code"] == (
        "session_invalid"
    )
    other_site = client.get("/api/v1/sites/blog/me", headers=reader)
    assert other_site.status_code == 401


def test_me_lists_the_account_its_comments_and_subscriptions(app, client, reader):
    first = post(client, reader, body="My first comment.")
    guest_comment(app, first)
    second = post(client, reader, body="My second comment.", thread="/other")
    with app.app_context():
        comment = db.session.get(Comment, first)
        outbox.subscribe(comment.site_id, "rea@example.org", comment.thread_id)
        db.session.commit()

    body = client.get(f"{API}/me", headers=reader).json

    assert body["account"]["name"] == "Rea"
    assert [c["id"] for c in body["comments"]] == [second, first]
    assert body["comments"][1]["excerpt"] == "My first comment."
    assert body["comments"][1]["status"] == "pending"
    assert [s["thread"] for s in body["subscriptions"]] == ["/article"]


def test_an_e_mail_reader_renames_themselves(client, reader):
    response = client.patch(f"{API}/me", json={"name": "Rea D."}, headers=reader)
    assert response.status_code == 200
    assert response.json["account"]["name"] == "Rea D."
    bad = client.patch(f"{API}/me", json={"name": ""}, headers=reader)
    assert bad.status_code == 422


def test_signing_out_ends_only_this_session(app, client, reader):
    with app.app_context():
        account = db.session.scalars(sa.select(Account)).one()
        other = {"Authorization": f"Bearer {sessions.issue(account.id)}"}
        db.session.commit()

    assert client.post(f"{API}/me/sign-out", headers=reader).status_code == 204
    assert client.get(f"{API}/me", headers=reader).status_code == 401
    assert client.get(f"{API}/me", headers=other).status_code == 200
    posted = client.post(
        f"{API}/comments", json=comment_payload(author=None), headers=reader
    )
    assert posted.status_code == 401
    assert "Your comment is kept" in posted.json["error"]["message"]


def test_unsubscribing_from_a_page(app, client, reader):
    first = post(client, reader)
    with app.app_context():
        comment = db.session.get(Comment, first)
        outbox.subscribe(comment.site_id, "rea@example.org", comment.thread_id)
        outbox.subscribe(comment.site_id, "someone@example.org", comment.thread_id)
        db.session.commit()
        theirs = db.session.scalars(
            sa.select(MailSubscription.id).order_by(MailSubscription.id)
        ).all()
    mine = client.get(f"{API}/me", headers=reader).json["subscriptions"][0]["id"]
    assert mine == theirs[0]

    stranger = client.delete(f"{API}/me/subscriptions/{theirs[1]}", headers=reader)
    assert stranger.status_code == 404
    done = client.delete(f"{API}/me/subscriptions/{mine}", headers=reader)
    assert done.status_code == 204
    assert client.get(f"{API}/me", headers=reader).json["subscriptions"] == []


def test_the_download_holds_every_comment_of_the_account(app, client, reader):
    guest_comment(app, post(client, reader, body="Downloadable words."))
    response = client.get(f"{API}/me/export", headers=reader)

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.json
    assert data["format"] == "commentsvc-account"
    assert data["account"]["email"] == "rea@example.org"
    assert [c["body"] for c in data["comments"]] == ["Downloadable words."]
    assert data["comments"][0]["ip"]


def test_erasure_needs_a_confirmation_then_leaves_nothing_of_the_reader(
    app, client, reader
):
    kept = post(client, reader, body="Words to erase.")
    with app.app_context():
        db.session.execute(sa.update(Comment).values(status=CommentStatus.APPROVED))
        db.session.commit()

    refused = client.delete(f"{API}/me", json={}, headers=reader)
    assert refused.status_code == 422
    done = client.delete(f"{API}/me", json={"confirm": True}, headers=reader)

    assert done.status_code == 200
    assert done.json["comments"] == 1
    assert client.get(f"{API}/me", headers=reader).status_code == 401
    listing = client.get(f"{API}/comments?thread=/article").json
    assert [c["author"] for c in listing["comments"]] == ["[deleted]"]
    with app.app_context():
        comment = db.session.get(Comment, kept)
        assert (comment.email, comment.ip, comment.account_id) == (None, None, None)
        assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0


def test_the_preflight_lets_the_embed_send_its_session(client, reader):
    response = client.options(
        f"{API}/me",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "DELETE" in response.headers["Access-Control-Allow-Methods"]


def test_the_daily_purge_forgets_expired_sessions_and_links(app, client, reader):
    from commentsvc.models import ReaderSession, SignInLink, utcnow

    with app.app_context():
        account = db.session.scalars(sa.select(Account)).one()
        now = utcnow()
        old = accounts.sessions.issue(account.id)
        db.session.add(
            SignInLink(
                site_id=account.site_id,
                email="rea@example.org",
                token_hash="0" * 64,
                return_url=f"{ORIGIN}/",
                created_at=now,
                expires_at=now,
            )
        )
        db.session.commit()
        db.session.execute(
            sa.update(ReaderSession)
            .where(ReaderSession.token_hash == sessions.token_hash(old))
            .values(expires_at=now)
        )
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["comments", "purge-ips"])

    assert "forgot 2 expired reader session(s) and sign-in link(s)" in result.output
    assert client.get(f"{API}/me", headers=reader).status_code == 200


def test_a_session_of_another_site_posts_nothing_there(app, client):
    with app.app_context():
        make_site(captcha_provider="dev")
        blog = make_site("blog", "A Blog", captcha_provider="dev")
        account = accounts.find_or_create(blog.id, "email", "b@example.org", "B")
        token = sessions.issue(account.id)
        db.session.commit()

    response = client.post(
        f"{API}/comments",
        json=comment_payload(author=None),
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 401
    assert response.json["error"]["code"] == "session_invalid"


def test_an_erased_comment_that_waited_leaves_the_queue(app, client, reader):
    """Approving "[deleted]" would publish nothing of anyone: a comment still
    waiting for a moderator leaves the queue as deleted."""
    waiting = post(client, reader, body="Not decided yet.")

    done = client.delete(f"{API}/me", json={"confirm": True}, headers=reader)

    assert done.status_code == 200
    with app.app_context():
        comment = db.session.get(Comment, waiting)
        assert (comment.body, comment.status) == ("[deleted]", CommentStatus.DELETED)

"""Bans from a comment: its email, IP or network, optionally until a date."""

import itertools
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from factories import comment_payload, make_comment

from commentsvc.extensions import db
from commentsvc.models import Ban, Comment, CommentStatus, Site, utcnow

from .conftest import csrf_from

API = "/api/v1/sites/news/comments"
_bodies = itertools.count()


def _news():
    return db.session.scalar(sa.select(Site).where(Site.slug == "news"))


def _ban(app, client, kind, until=""):
    with app.app_context():
        comment = make_comment(
            _news(), status=CommentStatus.PENDING, email="Troll@Example.org"
        )
    html = client.get("/moderation/queue").get_data(as_text=True)
    return client.post(
        f"/moderation/comments/{comment.id}/ban",
        data={
            "kind": kind,
            "until": until,
            "reason": "trolling",
            "csrf_token": csrf_from(html),
        },
    )


def _post_from(client, ip, email=None):
    body = f"new one {next(_bodies)}"  # a repeated body would be spam by itself
    response = client.post(
        API,
        json=comment_payload(email=email, body=body),
        environ_base={"REMOTE_ADDR": ip},
    )
    assert response.status_code == 202  # bots learn nothing
    with client.application.app_context():
        return db.session.get(Comment, response.json["id"])


@pytest.mark.parametrize(
    ("kind", "ip", "email", "banned"),
    [
        ("email", "203.0.113.9", "troll@example.org", True),
        ("email", "203.0.113.9", "someone@example.org", False),
        ("ip", "192.0.2.1", None, True),
        ("ip", "192.0.2.2", None, False),
        ("network", "192.0.2.200", None, True),
        ("network", "192.0.3.1", None, False),
    ],
)
def test_a_banned_posters_new_comments_go_to_spam(
    app, mod_client, kind, ip, email, banned
):
    response = _ban(app, mod_client, kind)
    assert response.status_code == 302
    with app.app_context():
        [ban] = db.session.scalars(sa.select(Ban)).all()
        assert ban.reason == "trolling"
        assert (
            ban.value
            == {
                "email": "troll@example.org",
                "ip": "192.0.2.1",
                "network": "192.0.2.0/24",
            }[kind]
        )
    comment = _post_from(mod_client, ip, email)
    if banned:
        assert comment.status == CommentStatus.SPAM
        assert comment.signals["banned"]["kind"] == kind
    else:
        assert comment.status == CommentStatus.PENDING
        assert "banned" not in comment.signals


def test_a_ban_until_a_date_ends(app, mod_client):
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert _ban(app, mod_client, "ip", until=tomorrow).status_code == 302
    assert _post_from(mod_client, "192.0.2.1").status == CommentStatus.SPAM
    with app.app_context():
        db.session.execute(
            sa.update(Ban).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    comment = _post_from(mod_client, "192.0.2.1")
    assert comment.status == CommentStatus.PENDING, comment.signals


def test_a_ban_in_the_past_is_refused(app, mod_client):
    yesterday = (utcnow() - timedelta(days=2)).date().isoformat()
    response = _ban(app, mod_client, "ip", until=yesterday)
    assert response.status_code == 302
    page = mod_client.get("/moderation/queue").get_data(as_text=True)
    assert "must be in the future" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Ban.id))) == 0


def test_ipv6_network_ban_covers_the_64(app, mod_client):
    with app.app_context():
        from commentsvc.comments.service import ClientInfo, Submission, submit_comment

        comment = submit_comment(
            _news(),
            Submission(
                thread="/a", url="https://news.example/a", author="v6", body="hi"
            ),
            ClientInfo(ip="2001:db8:1:2::5"),
        )
    html = mod_client.get("/moderation/queue").get_data(as_text=True)
    mod_client.post(
        f"/moderation/comments/{comment.id}/ban",
        data={"kind": "network", "csrf_token": csrf_from(html)},
    )
    assert _post_from(mod_client, "2001:db8:1:2:ffff::1").status == CommentStatus.SPAM
    assert _post_from(mod_client, "2001:db8:1:3::1").status == CommentStatus.PENDING


def test_bans_page_and_lifting(app, mod_client):
    _ban(app, mod_client, "ip", until="2099-01-02")
    page = mod_client.get("/moderation/bans").get_data(as_text=True)
    assert "192.0.2.1" in page and "trolling" in page
    # The site by its name, who banned, since and until in the shared markup.
    assert '<td data-label="Site">Example News</td>' in page
    assert '<td data-label="Banned by">mod</td>' in page
    assert re.search(r'<td data-label="Since"><time datetime="[^"]+" data-local>', page)
    assert "2099-01-02 23:59 UTC</time>" in page
    assert '<table class="records bans">' in page
    with app.app_context():
        ban_id = db.session.scalar(sa.select(Ban.id))
    response = mod_client.post(
        f"/moderation/bans/{ban_id}/lift", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 302
    assert "No bans." in mod_client.get("/moderation/bans").get_data(as_text=True)
    comment = _post_from(mod_client, "192.0.2.1")
    assert comment.status == CommentStatus.PENDING, comment.signals


def test_another_sites_moderator_cannot_lift_a_ban(app, mod_client):
    from .conftest import logged_in_client

    _ban(app, mod_client, "ip")
    with app.app_context():
        ban_id = db.session.scalar(sa.select(Ban.id))
    blogger = logged_in_client(app, "blogger")
    page = blogger.get("/moderation/bans").get_data(as_text=True)
    assert "192.0.2.1" not in page
    response = blogger.post(
        f"/moderation/bans/{ban_id}/lift", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 403


def test_lifting_a_ban_that_is_not_there(app, mod_client):
    page = mod_client.get("/moderation/bans").get_data(as_text=True)
    for ban_id in (12345, 99999999999999):
        response = mod_client.post(
            f"/moderation/bans/{ban_id}/lift", data={"csrf_token": csrf_from(page)}
        )
        assert response.status_code == 404

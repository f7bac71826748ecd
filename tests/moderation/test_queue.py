"""The review queue: what it shows, filters, pages, decisions and conflicts."""

import threading

import pytest
import sqlalchemy as sa
from factories import make_comment

from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.models import (
    Comment,
    CommentStatus,
    ModerationEvent,
    Moderator,
    Site,
    WebhookEvent,
)

from .conftest import csrf_from, logged_in_client

PENDING = CommentStatus.PENDING


def _site(slug):
    return db.session.scalar(sa.select(Site).where(Site.slug == slug))


def _queue(client, **params):
    response = client.get("/moderation/queue", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _decide(client, page_html, **data):
    data["csrf_token"] = csrf_from(page_html)
    data.setdefault("next", "/moderation/queue")
    return client.post("/moderation/decide", data=data)


def _fresh(app, comment_id) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


def test_queue_shows_what_a_moderator_needs(app, mod_client):
    with app.app_context():
        news = _site("news")
        parent = make_comment(news, body="The parent comment", author="Pat")
        reply = make_comment(
            news,
            status=PENDING,
            parent_id=parent.id,
            author="Rita <b>",
            email="rita@example.org",
            body="A reply with a link https://example.org",
            title="The article title",
        )
        make_comment(news, status=CommentStatus.SPAM, email="rita@example.org")
        reply_id = reply.id
    html = _queue(mod_client)
    assert f'id="c{reply_id}"' in html
    assert "Rita &lt;b&gt;" in html  # author escaped
    assert "rita@example.org" in html
    assert "192.0.2.1" in html
    assert "In reply to Pat" in html and "The parent comment" in html
    assert 'rel="nofollow ugc noopener"' in html
    assert "email approved 0" not in html
    assert "pending 1" in html and "spam 1" in html  # history by email
    assert 'Pending <span class="count">1</span>' in html


def test_a_commenters_history_covers_only_the_moderators_sites(app, two_sites):
    """A moderator of one site must not learn what a commenter does on sites
    they do not moderate; an admin sees it all."""
    with app.app_context():
        make_comment(_site("news"), status=PENDING, email="sam@example.org")
        for status in (CommentStatus.SPAM, CommentStatus.SPAM, CommentStatus.REJECTED):
            make_comment(_site("blog"), status=status, email="sam@example.org")
    html = _queue(logged_in_client(app, "mod"))
    history = html[html.index('class="history"') :]
    history = history[: history.index("</p>")]
    assert "pending 1" in history
    assert "spam" not in history and "rejected" not in history
    html = _queue(logged_in_client(app, "boss"), site="news")
    history = html[html.index('class="history"') :]
    history = history[: history.index("</p>")]
    assert "pending 1" in history and "spam 2" in history and "rejected 1" in history


def test_pending_is_oldest_first_and_pages_by_keyset(app, mod_client):
    with app.app_context():
        news = _site("news")
        ids = [make_comment(news, status=PENDING, body=f"n{i}").id for i in range(30)]
    first = _queue(mod_client)
    positions = [first.find(f'id="c{i}"') for i in ids[:25]]
    assert all(p > 0 for p in positions) and positions == sorted(positions)
    assert f'id="c{ids[25]}"' not in first
    cursor = first.split("after=")[1].split("&")[0].split('"')[0]
    second = _queue(mod_client, after=cursor)
    for i in ids[25:]:
        assert f'id="c{i}"' in second
    assert f'id="c{ids[24]}"' not in second
    assert 'rel="next"' not in second


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"author": "ALICE"}, {"alice"}),
        ({"email": "Bob@Example.org"}, {"bob"}),
        ({"ip": "198.51.100.77"}, {"carol"}),
        ({"ip": "198.51.100.*"}, {"carol"}),
        ({"text": "needle"}, {"dave"}),
        ({"thread": "/other"}, {"erin"}),
        ({"text": "100%"}, {"frank"}),
    ],
)
def test_filters(app, admin_client, params, expected):
    from commentsvc.comments.service import ClientInfo, Submission, submit_comment

    with app.app_context():
        news = _site("news")
        rows = [
            ("alice", "a@example.org", "192.0.2.1", "/article", "hello"),
            ("bob", "bob@example.org", "192.0.2.1", "/article", "hi"),
            ("carol", None, "198.51.100.77", "/article", "hey"),
            ("dave", None, "192.0.2.1", "/article", "a needle here"),
            ("erin", None, "192.0.2.1", "/other", "yo"),
            ("frank", None, "192.0.2.1", "/article", "100% sure"),
        ]
        for author, email, ip, thread, body in rows:
            submit_comment(
                news,
                Submission(
                    thread=thread,
                    url="https://news.example" + thread,
                    author=author,
                    email=email,
                    body=body,
                ),
                ClientInfo(ip=ip),
            )
    html = _queue(admin_client, **params)
    shown = {
        name for name, *_ in rows if f'<strong class="author">{name}</strong>' in html
    }
    assert shown == expected


@pytest.mark.parametrize(
    ("action", "status", "event"),
    [
        ("approve", CommentStatus.APPROVED, "comment.approved"),
        ("reject", CommentStatus.REJECTED, "comment.rejected"),
        ("spam", CommentStatus.SPAM, "comment.spam"),
        ("delete", CommentStatus.DELETED, "comment.deleted"),
    ],
)
def test_single_action_changes_status_with_audit_and_event(
    app, mod_client, action, status, event
):
    with app.app_context():
        comment = make_comment(_site("news"), status=PENDING)
        target = f"{comment.id}:{comment.version}"
    html = _queue(mod_client)
    response = _decide(mod_client, html, one=f"{action}:{target}", reason="because")
    assert response.status_code == 302
    stored = _fresh(app, comment.id)
    assert stored.status == status
    assert stored.version == comment.version + 1
    assert stored.moderated_at is not None
    with app.app_context():
        mod = db.session.scalar(sa.select(Moderator).where(Moderator.username == "mod"))
        assert stored.moderated_by_id == mod.id
        [audit] = db.session.scalars(sa.select(ModerationEvent)).all()
        assert (audit.from_status, audit.to_status) == (PENDING, status)
        assert audit.moderator_id == mod.id and audit.reason == "because"
        events = db.session.scalars(
            sa.select(WebhookEvent.type).where(WebhookEvent.type != "comment.created")
        ).all()
        assert events == [event]
        payload = db.session.scalars(
            sa.select(WebhookEvent.payload).where(WebhookEvent.type == event)
        ).one()
        assert payload["data"]["comment"]["status"] == status.value
        assert "ip" not in payload["data"]["comment"]


def test_back_to_pending(app, mod_client):
    with app.app_context():
        comment = make_comment(_site("news"), status=CommentStatus.SPAM)
    html = _queue(mod_client, status="spam")
    _decide(mod_client, html, one=f"pending:{comment.id}:{comment.version}")
    assert _fresh(app, comment.id).status == PENDING


@pytest.mark.parametrize("action", ["approve", "reject", "spam", "delete"])
def test_bulk_action(app, mod_client, action):
    with app.app_context():
        comments = [make_comment(_site("news"), status=PENDING) for _ in range(3)]
        untouched = make_comment(_site("news"), status=PENDING)
    html = _queue(mod_client)
    response = _decide(
        mod_client,
        html,
        bulk=action,
        selected=[f"{c.id}:{c.version}" for c in comments],
    )
    assert response.status_code == 302
    for c in comments:
        assert _fresh(app, c.id).status != PENDING
    assert _fresh(app, untouched.id).status == PENDING
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ModerationEvent.id))) == 3


def test_decisions_need_a_valid_csrf_token(app, mod_client):
    with app.app_context():
        comment = make_comment(_site("news"), status=PENDING)
    target = f"approve:{comment.id}:{comment.version}"
    for token in (None, "wrong"):
        data = {"one": target}
        if token:
            data["csrf_token"] = token
        response = mod_client.post("/moderation/decide", data=data)
        assert response.status_code == 400
    assert _fresh(app, comment.id).status == PENDING


def test_a_moderator_never_sees_or_acts_on_another_sites_comments(app, two_sites):
    with app.app_context():
        blog_comment = make_comment(_site("blog"), status=PENDING, body="blog only")
        news_comment = make_comment(_site("news"), status=PENDING, body="news only")
    mod = logged_in_client(app, "mod")
    html = _queue(mod)
    assert "news only" in html and "blog only" not in html
    assert _queue(mod, site="blog").count('class="comment"') == 0
    response = _decide(
        mod, html, one=f"approve:{blog_comment.id}:{blog_comment.version}"
    )
    assert response.status_code == 403
    response = _decide(
        mod,
        html,
        bulk="approve",
        selected=[
            f"{news_comment.id}:{news_comment.version}",
            f"{blog_comment.id}:{blog_comment.version}",
        ],
    )
    assert response.status_code == 403
    assert _fresh(app, blog_comment.id).status == PENDING
    assert _fresh(app, news_comment.id).status == PENDING  # all or nothing
    ban = mod.post(
        f"/moderation/comments/{blog_comment.id}/ban",
        data={"kind": "ip", "csrf_token": csrf_from(html)},
    )
    assert ban.status_code == 403
    admin_html = _queue(logged_in_client(app, "boss"))
    assert "news only" in admin_html and "blog only" in admin_html


def test_two_moderators_at_once_one_transition_and_a_named_conflict(
    app, live_server, two_sites
):
    import requests

    with app.app_context():
        comment = make_comment(_site("news"), status=PENDING)
        target = f"{comment.id}:{comment.version}"
        from commentsvc.moderation.accounts import create_moderator

        create_moderator("mod2", "correct horse battery", site_slugs=["news"])

    sessions = []
    for name in ("mod", "mod2"):
        session = requests.Session()
        page = session.get(live_server.url + "/moderation/login").text
        session.post(
            live_server.url + "/moderation/login",
            data={
                "username": name,
                "password": "correct horse battery",
                "csrf_token": csrf_from(page),
            },
        )
        html = session.get(live_server.url + "/moderation/queue").text
        sessions.append((session, csrf_from(html)))
    barrier = threading.Barrier(2)
    flashes = []

    def approve(session, token):
        barrier.wait()
        response = session.post(
            live_server.url + "/moderation/decide",
            data={
                "csrf_token": token,
                "one": f"approve:{target}",
                "next": "/moderation/queue",
            },
        )
        flashes.append(response.text)

    threads = [threading.Thread(target=approve, args=s) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum("1 comment approved." in page for page in flashes) == 1
    loser = next(page for page in flashes if "1 comment approved." not in page)
    assert f"Comment {comment.id} was already approved by mod" in loser
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ModerationEvent.id))) == 1
        assert (
            db.session.scalar(
                sa.select(sa.func.count(WebhookEvent.id)).where(
                    WebhookEvent.type == "comment.approved"
                )
            )
            == 1
        )
        assert db.session.get(Comment, comment.id).version == comment.version + 1


def test_service_conflict_when_the_version_moved_on(app, two_sites):
    with app.app_context():
        comment = make_comment(_site("news"), status=PENDING)
        mod = db.session.scalar(sa.select(Moderator).where(Moderator.username == "mod"))
        seen = comment.version
        stale = Target(comment.id, seen)
        first = moderate(mod, [stale], CommentStatus.APPROVED)
        assert first.changed == [comment.id]
        # Back to pending by someone else, then the stale decision arrives.
        moderate(mod, [Target(comment.id, seen + 1)], PENDING)
        late = moderate(mod, [stale], CommentStatus.SPAM)
        assert late.changed == []
        [conflict] = late.conflicts
        assert conflict.status == PENDING
        assert db.session.get(Comment, comment.id).status == PENDING


def test_audit_trail_page(app, mod_client):
    with app.app_context():
        comment = make_comment(_site("news"), status=PENDING, author="Zed")
    html = _queue(mod_client)
    _decide(mod_client, html, one=f"spam:{comment.id}:{comment.version}", reason="ads")
    page = mod_client.get("/moderation/audit").get_data(as_text=True)
    assert "mod" in page and "pending" in page and "spam" in page and "ads" in page
    assert f"#{comment.id} by Zed" in page

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
    approved = f"Approved the comment by {comment.author} on \u201c/article\u201d."
    assert sum(approved in page for page in flashes) == 1
    loser = next(page for page in flashes if approved not in page)
    assert (
        f"The comment by {comment.author} on \u201c/article\u201d was already "
        "approved by mod" in loser
    )
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


# Decisions made in place (htmx), their messages and their undo.

HX = {"HX-Request": "true"}


def _titled_comment(app):
    with app.app_context():
        comment = make_comment(
            _site("news"), status=PENDING, author="Alice", title="Cats and dogs"
        )
        # The page's title, as an approved post offering it would have set it
        # (approving this one keeps it: see test_thread_title).
        comment.thread.title = "Cats and dogs"
        db.session.commit()
        db.session.expunge(comment)
        return comment


def _undo_token(html: str) -> str:
    import re

    found = re.search(r'form="undo" name="token" value="([^"]+)"', html)
    assert found, "no Undo button"
    return found.group(1)


def test_decision_in_place_answers_with_a_fragment(app, mod_client):
    comment = _titled_comment(app)
    other = _titled_comment(app)
    html = _queue(mod_client)
    response = mod_client.post(
        "/moderation/decide",
        data={
            "csrf_token": csrf_from(html),
            "one": f"approve:{comment.id}:{comment.version}",
            "next": "/moderation/queue?status=pending",
        },
        headers=HX,
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment
    # The decided card leaves the pending tab; the others are not sent.
    assert f'<div id="c{comment.id}" class="comment-gone"' in fragment
    assert f'id="c{other.id}"' not in fragment
    # The tab counts and the flash area are swapped out of band.
    assert 'id="queue-tabs"' in fragment and 'hx-swap-oob="true"' in fragment
    assert 'Pending <span class="count">1</span>' in fragment
    assert 'hx-swap-oob="innerHTML:.flashes"' in fragment
    assert "Approved the comment by Alice on \u201cCats and dogs\u201d." in fragment
    assert 'data-undo data-seconds="10">Undo</button>' in fragment
    assert _fresh(app, comment.id).status == CommentStatus.APPROVED
    # Nothing was flashed for the next full page.
    assert "Approved the comment" not in _queue(mod_client)


def test_decision_without_javascript_still_redirects_with_undo(app, mod_client):
    comment = _titled_comment(app)
    html = _queue(mod_client)
    response = _decide(mod_client, html, one=f"spam:{comment.id}:{comment.version}")
    assert response.status_code == 302
    page = _queue(mod_client)
    assert "Marked as spam the comment by Alice on \u201cCats and dogs\u201d." in page
    assert _undo_token(page)
    assert 'id="undo"' in page  # the form the flashed button submits


def test_conflict_in_place_is_a_message_in_the_card(app, mod_client):
    comment = _titled_comment(app)
    html = _queue(mod_client)
    with app.app_context():
        boss = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        moderate(boss, [Target(comment.id, comment.version)], CommentStatus.REJECTED)
    response = mod_client.post(
        "/moderation/decide",
        data={
            "csrf_token": csrf_from(html),
            "one": f"approve:{comment.id}:{comment.version}",
            "next": "/moderation/queue",
        },
        headers=HX,
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    message = (
        "The comment by Alice on \u201cCats and dogs\u201d was already "
        "rejected by boss."
    )
    card = fragment[fragment.index(f'id="c{comment.id}"') :]
    assert 'class="conflict" role="alert">' + message in card
    # The card carries the new version, so the next decision can apply.
    assert f'value="{comment.id}:{comment.version + 1}"' in card
    assert _fresh(app, comment.id).status == CommentStatus.REJECTED


def test_bulk_in_place_and_an_empty_selection(app, mod_client):
    first = _titled_comment(app)
    second = _titled_comment(app)
    html = _queue(mod_client)
    data = {
        "csrf_token": csrf_from(html),
        "bulk": "reject",
        "next": "/moderation/queue",
    }
    empty = mod_client.post("/moderation/decide", data=data, headers=HX)
    assert "Select at least one comment." in empty.get_data(as_text=True)
    data["selected"] = [f"{c.id}:{c.version}" for c in (first, second)]
    fragment = mod_client.post("/moderation/decide", data=data, headers=HX).get_data(
        as_text=True
    )
    assert "Rejected 2 comments." in fragment
    assert f'<div id="c{first.id}" class="comment-gone"' in fragment
    assert f'<div id="c{second.id}" class="comment-gone"' in fragment


def _undo(client, html, token, **headers):
    return client.post(
        "/moderation/undo",
        data={
            "csrf_token": csrf_from(html),
            "token": token,
            "next": "/moderation/queue",
        },
        headers=headers,
    )


def test_undo_restores_the_previous_state(app, mod_client):
    comment = _titled_comment(app)
    html = _queue(mod_client)
    fragment = mod_client.post(
        "/moderation/decide",
        data={
            "csrf_token": csrf_from(html),
            "one": f"approve:{comment.id}:{comment.version}",
            "next": "/moderation/queue",
        },
        headers=HX,
    ).get_data(as_text=True)
    response = _undo(mod_client, html, _undo_token(fragment), **HX)
    assert response.status_code == 200
    undone = response.get_data(as_text=True)
    # Back to pending, the page has no approved post to take its title from.
    assert "Undone: the comment by Alice on \u201c/article\u201d is pending again." in (
        undone
    )
    # The card comes back in place of the placeholder, marked for the focus.
    assert f'id="c{comment.id}"' in undone and "restored" in undone
    stored = _fresh(app, comment.id)
    assert stored.status == PENDING
    # As nobody had decided it before: no label for the learning filter.
    assert stored.moderated_at is None and stored.moderated_by_id is None
    assert stored.version == comment.version + 2
    with app.app_context():
        events = list(
            db.session.scalars(sa.select(ModerationEvent).order_by(ModerationEvent.id))
        )
        assert [(e.from_status, e.to_status, e.reason) for e in events] == [
            (PENDING, CommentStatus.APPROVED, None),
            (CommentStatus.APPROVED, PENDING, "undo"),
        ]
        # The approval was announced; back to pending sends no event (as a
        # moderator's "Back to pending" does not).
        types = list(db.session.scalars(sa.select(WebhookEvent.type)))
        assert types.count("comment.approved") == 1


def test_undo_of_a_rescue_puts_the_filters_spam_back(app, mod_client):
    """Spam the filter stored, approved by mistake, undone: spam again, and not
    a moderator's spam label (the learner would learn it twice)."""
    with app.app_context():
        comment = make_comment(
            _site("news"), status=CommentStatus.SPAM, author="Bob", title="T"
        )
        db.session.expunge(comment)
    html = _queue(mod_client, status="spam")
    response = _decide(
        mod_client,
        html,
        one=f"approve:{comment.id}:{comment.version}",
        next="/moderation/queue?status=spam",
    )
    page = _queue(mod_client, status="spam")
    assert response.status_code == 302
    response = _undo(mod_client, page, _undo_token(page))
    assert response.status_code == 302
    stored = _fresh(app, comment.id)
    assert stored.status == CommentStatus.SPAM and stored.moderated_at is None
    with app.app_context():
        from commentsvc.learning import store

        assert store.examples(comment.site_id) == []
        types = list(db.session.scalars(sa.select(WebhookEvent.type)))
        assert "comment.approved" in types and types[-1] == "comment.spam"


def test_undo_restores_who_had_decided_before(app, mod_client):
    comment = _titled_comment(app)
    with app.app_context():
        boss = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        moderate(boss, [Target(comment.id, comment.version)], CommentStatus.APPROVED)
        before = db.session.get(Comment, comment.id)
        was = (before.moderated_at, before.moderated_by_id, before.version)
    html = _queue(mod_client, status="approved")
    _decide(mod_client, html, one=f"delete:{comment.id}:{was[2]}")
    page = _queue(mod_client, status="approved")
    _undo(mod_client, page, _undo_token(page))
    stored = _fresh(app, comment.id)
    assert stored.status == CommentStatus.APPROVED
    assert stored.moderated_by_id == was[1]
    assert stored.moderated_at.replace(tzinfo=None) == was[0].replace(tzinfo=None)


def test_undo_refused_when_too_old(app, mod_client, monkeypatch):
    from commentsvc.comments import undo

    comment = _titled_comment(app)
    html = _queue(mod_client)
    _decide(mod_client, html, one=f"reject:{comment.id}:{comment.version}")
    page = _queue(mod_client)
    token = _undo_token(page)
    later = undo._clock() + undo.UNDO_SECONDS + undo.GRACE_SECONDS + 1
    monkeypatch.setattr(undo, "_clock", lambda: later)
    fragment = _undo(mod_client, page, token, **HX).get_data(as_text=True)
    assert "Too late to undo" in fragment
    assert _fresh(app, comment.id).status == CommentStatus.REJECTED


def test_undo_refused_when_the_comment_changed_since(app, mod_client):
    comment = _titled_comment(app)
    html = _queue(mod_client)
    _decide(mod_client, html, one=f"reject:{comment.id}:{comment.version}")
    page = _queue(mod_client)
    with app.app_context():
        boss = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        moderate(boss, [Target(comment.id, comment.version + 1)], CommentStatus.SPAM)
    fragment = _undo(mod_client, page, _undo_token(page), **HX).get_data(as_text=True)
    assert (
        "The comment by Alice on \u201cCats and dogs\u201d changed since (it is now "
        "spam by boss): not undone." in fragment
    )
    assert _fresh(app, comment.id).status == CommentStatus.SPAM


def test_undo_refuses_a_forged_or_foreign_token(app, mod_client, two_sites):
    comment = _titled_comment(app)
    html = _queue(mod_client)
    _decide(mod_client, html, one=f"reject:{comment.id}:{comment.version}")
    page = _queue(mod_client)
    token = _undo_token(page)
    forged = _undo(mod_client, page, token[:-3] + "abc", **HX).get_data(as_text=True)
    assert "This undo link is not valid." in forged
    boss = logged_in_client(app, "boss")
    boss_page = _queue(boss, status="rejected")
    foreign = _undo(boss, boss_page, token, **HX).get_data(as_text=True)
    assert "another moderator" in foreign
    assert _fresh(app, comment.id).status == CommentStatus.REJECTED


def test_card_shows_thread_context_reasons_and_local_times(app, mod_client):
    with app.app_context():
        news = _site("news")
        news.max_links = 1
        db.session.commit()
        comment = make_comment(
            news,
            status=PENDING,
            author="Linker",
            title="Links galore",
            body="see https://a.example https://b.example https://c.example",
        )
        assert comment.signals["held"]["too_many_links"] == 3
    html = _queue(mod_client)
    card = html[html.index(f'id="c{comment.id}"') :]
    assert "3 links (the site allows 1)" in card
    assert "held-warning" in html[: html.index(f'id="c{comment.id}"') + 200]
    assert "too_many_links=" not in html and "<code>" not in card
    assert "thread=/article" in card and "This thread in the queue" in card
    assert "data-local>" in card and " UTC</time>" in card
    assert '<details class="filters">' in html  # folded: no filter is active
    assert '<details class="filters" open>' in _queue(mod_client, author="Linker")


def test_a_bulk_decision_is_undone_at_once(app, mod_client):
    first = _titled_comment(app)
    second = _titled_comment(app)
    html = _queue(mod_client)
    selected = [f"{c.id}:{c.version}" for c in (first, second)]
    _decide(mod_client, html, bulk="delete", selected=selected)
    page = _queue(mod_client)
    assert "Deleted 2 comments." in page
    _undo(mod_client, page, _undo_token(page))
    assert _fresh(app, first.id).status == PENDING
    assert _fresh(app, second.id).status == PENDING
    assert "Undone: the comment by Alice" in _queue(mod_client)

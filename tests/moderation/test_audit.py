"""The audit trail: every decision, ban, settings and account change, webhook
endpoint and mail setting, from the UI and the command line; what each entry
says and links to, who may see it, filters and paging."""

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from factories import make_comment

from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.models import (
    AuditEntry,
    CommentStatus,
    ModerationEvent,
    Moderator,
    Site,
    utcnow,
)
from commentsvc.moderation.audit_trail import PAGE

from .conftest import PASSWORD, csrf_from, logged_in_client, settings_form

AUDIT = "/moderation/audit"
SECRET = "captcha-secret-do-not-log"
NEW_PASSWORD = "a brand new password"


@pytest.fixture
def app(make_app):
    # The webhook endpoint tests register a loopback URL.
    return make_app(WEBHOOK_ALLOW_PRIVATE_NETWORKS="127.0.0.1/32")


def _last_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0


def _new_entries(app, since: int) -> list[dict]:
    """The entries written after *since*, as plain dicts."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.id > since).order_by(AuditEntry.id)
        )
        return [
            {
                "kind": e.kind,
                "who": e.moderator.username if e.moderator else None,
                "site": e.site.slug if e.site else None,
                "target": (e.target_type, e.target_label),
                "comment_id": e.comment_id,
                "changes": e.changes,
            }
            for e in rows
        ]


def _all_entries_json(app) -> str:
    with app.app_context():
        return json.dumps(
            [e.changes for e in db.session.scalars(sa.select(AuditEntry))]
        ) + " ".join(db.session.scalars(sa.select(AuditEntry.target_label)).all())


def _site(slug="news") -> Site:
    return db.session.scalar(sa.select(Site).where(Site.slug == slug))


def _moderator(username) -> Moderator:
    return db.session.scalar(sa.select(Moderator).where(Moderator.username == username))


def _csrf(client, path=AUDIT) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def _comment(app, site="news", **fields):
    with app.app_context():
        return make_comment(_site(site), status=CommentStatus.PENDING, **fields).id


def _ban(app, client, site="news"):
    comment_id = _comment(app, site, email="troll@example.org")
    response = client.post(
        f"/moderation/comments/{comment_id}/ban",
        data={
            "kind": "email",
            "until": "",
            "reason": "trolling",
            "csrf_token": _csrf(client, "/moderation/queue"),
        },
    )
    assert response.status_code == 302
    return comment_id


def _run(runner, *args, input=None):
    result = runner.invoke(args=list(args), input=input)
    assert result.exit_code == 0, result.output
    return result


# -- Bans ----------------------------------------------------------------------


def test_a_ban_and_its_lifting_are_recorded_once_each(app, mod_client):
    since = _last_id(app)
    comment_id = _ban(app, mod_client)
    [added] = _new_entries(app, since)
    assert added["kind"] == "ban.added"
    assert added["who"] == "mod"
    assert added["site"] == "news"
    assert added["target"] == ("ban", "email troll@example.org")
    assert added["comment_id"] == comment_id
    assert added["changes"]["reason"] == "trolling"

    since = _last_id(app)
    with app.app_context():
        ban_id = db.session.scalar(sa.text("SELECT id FROM bans"))
    response = mod_client.post(
        f"/moderation/bans/{ban_id}/lift",
        data={"csrf_token": _csrf(mod_client, "/moderation/bans")},
    )
    assert response.status_code == 302
    [lifted] = _new_entries(app, since)
    assert (lifted["kind"], lifted["who"], lifted["site"]) == (
        "ban.lifted",
        "mod",
        "news",
    )
    html = mod_client.get(AUDIT).get_data(as_text=True)
    assert "Banned" in html and "Lifted the ban on" in html
    assert "reason: trolling; until: forever" in html
    # The ban links to the bans page; its comment to the comment's page.
    assert '<a href="/moderation/bans">email troll@example.org</a>' in html
    assert f'<a href="/moderation/comments/{comment_id}">comment #{comment_id}</a>' in (
        html
    )


# -- Site settings -------------------------------------------------------------


def test_site_settings_from_the_ui_are_recorded_without_secrets(app, admin_client):
    # A first save settles whatever the form's defaults differ in.
    assert settings_form(admin_client).status_code == 302
    since = _last_id(app)
    response = settings_form(
        admin_client, name="The News", captcha_secret=SECRET, max_links="5"
    )
    assert response.status_code == 302
    [entry] = _new_entries(app, since)
    assert entry["kind"] == "site.settings"
    assert (entry["who"], entry["site"]) == ("boss", "news")
    assert entry["changes"] == {
        "name": ["Example News", "The News"],
        "captcha_secret": "changed",
        "max_links": [2, 5],
    }

    since = _last_id(app)
    response = settings_form(
        admin_client,
        name="The News",
        max_links="5",
        allowed_origins="https://news.example\nhttps://m.news.example",
    )
    assert response.status_code == 302
    [entry] = _new_entries(app, since)
    assert entry["kind"] == "site.origins"
    assert entry["changes"] == {
        "allowed_origins": [
            ["https://news.example"],
            ["https://news.example", "https://m.news.example"],
        ]
    }
    # Saving without a change writes nothing.
    since = _last_id(app)
    settings_form(
        admin_client,
        name="The News",
        max_links="5",
        allowed_origins="https://news.example\nhttps://m.news.example",
    )
    assert _new_entries(app, since) == []

    assert SECRET not in _all_entries_json(app)
    html = admin_client.get(AUDIT).get_data(as_text=True)
    assert SECRET not in html
    assert "captcha secret changed" in html
    assert '<a href="/moderation/sites/news/settings">news</a>' in html


def test_a_site_created_in_the_ui_is_recorded(app, admin_client):
    page = admin_client.get("/moderation/sites").get_data(as_text=True)
    since = _last_id(app)
    response = admin_client.post(
        "/moderation/sites",
        data={
            "csrf_token": csrf_from(page),
            "slug": "shop",
            "name": "The Shop",
            "allowed_origins": "https://shop.example",
        },
    )
    assert response.status_code == 302
    [entry] = _new_entries(app, since)
    assert (entry["kind"], entry["who"], entry["site"]) == (
        "site.created",
        "boss",
        "shop",
    )
    assert entry["changes"]["name"] == [None, "The Shop"]
    assert entry["changes"]["allowed_origins"] == [None, ["https://shop.example"]]


def test_sites_changed_on_the_command_line_are_recorded_as_the_command_line(
    app, runner, two_sites
):
    since = _last_id(app)
    _run(
        runner,
        "sites",
        "create",
        "shop",
        "--name",
        "Shop",
        "--origin",
        "https://s.example",
    )
    [created] = _new_entries(app, since)
    assert (created["kind"], created["who"], created["site"]) == (
        "site.created",
        None,
        "shop",
    )

    since = _last_id(app)
    _run(
        runner,
        "sites",
        "update",
        "shop",
        "--name",
        "The Shop",
        "--captcha-secret-stdin",
        input=SECRET + "\n",
    )
    [updated] = _new_entries(app, since)
    assert updated["kind"] == "site.settings"
    assert updated["who"] is None
    assert updated["changes"]["name"] == ["Shop", "The Shop"]
    assert updated["changes"]["captcha_secret"] == "changed"

    since = _last_id(app)
    _run(runner, "sites", "update", "shop", "--add-origin", "https://t.example")
    [origins] = _new_entries(app, since)
    assert origins["kind"] == "site.origins"
    assert SECRET not in _all_entries_json(app)

    admin = logged_in_client(app, "boss")
    html = admin.get(AUDIT, query_string={"who": "none", "site": "shop"}).get_data(
        as_text=True
    )
    assert html.count("command line") >= 3


# -- Accounts ------------------------------------------------------------------


def test_account_changes_in_the_ui_are_recorded(app, admin_client):
    page = admin_client.get("/moderation/moderators").get_data(as_text=True)
    since = _last_id(app)
    response = admin_client.post(
        "/moderation/moderators",
        data={
            "csrf_token": csrf_from(page),
            "username": "newbie",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "sites": ["news"],
        },
    )
    assert response.status_code == 302
    [created] = _new_entries(app, since)
    assert (created["kind"], created["who"], created["site"]) == (
        "moderator.created",
        "boss",
        None,
    )
    assert created["changes"]["sites"] == [None, ["news"]]
    with app.app_context():
        newbie = _moderator("newbie")
        newbie_id, password_hash = newbie.id, newbie.password_hash
    account = f"/moderation/moderators/{newbie_id}"

    def post(path, **data):
        data["csrf_token"] = _csrf(admin_client, account)
        response = admin_client.post(f"{account}{path}", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)

    since = _last_id(app)
    post("/sites", sites=["news", "blog"])
    post("/password", new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    post("/deactivate")
    post("/reactivate")
    entries = _new_entries(app, since)
    assert [e["kind"] for e in entries] == [
        "moderator.sites",
        "moderator.password_reset",
        "moderator.deactivated",
        "moderator.reactivated",
    ]
    assert all(e["who"] == "boss" and e["site"] is None for e in entries)
    assert entries[0]["changes"] == {"sites": [["news"], ["blog", "news"]]}
    assert entries[1]["changes"] == {"password": "changed"}
    everything = _all_entries_json(app)
    assert NEW_PASSWORD not in everything and PASSWORD not in everything
    assert password_hash not in everything and "argon2" not in everything

    html = admin_client.get(AUDIT, query_string={"kind": "accounts"}).get_data(
        as_text=True
    )
    assert f'<a href="{account}">newbie</a>' in html
    assert "Set a new password for" in html and "Deactivated" in html


def test_a_moderators_own_password_change_is_recorded(app, mod_client):
    page = "/moderation/account/password"
    since = _last_id(app)
    response = mod_client.post(
        page,
        data={
            "csrf_token": _csrf(mod_client, page),
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    [entry] = _new_entries(app, since)
    assert (entry["kind"], entry["who"], entry["target"]) == (
        "moderator.password_changed",
        "mod",
        ("moderator", "mod"),
    )
    admin = logged_in_client(app, "boss")
    assert "Changed their own password" in admin.get(AUDIT).get_data(as_text=True)


def test_account_changes_on_the_command_line_are_recorded(app, runner, two_sites):
    since = _last_id(app)
    _run(
        runner,
        "moderators",
        "create",
        "clara",
        "--site",
        "news",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    _run(runner, "moderators", "sites", "clara", "--add-site", "blog")
    _run(
        runner,
        "moderators",
        "set-password",
        "clara",
        "--password-stdin",
        input=NEW_PASSWORD + "\n",
    )
    _run(runner, "moderators", "deactivate", "clara")
    _run(runner, "moderators", "reactivate", "clara")
    entries = _new_entries(app, since)
    assert [e["kind"] for e in entries] == [
        "moderator.created",
        "moderator.sites",
        "moderator.password_reset",
        "moderator.deactivated",
        "moderator.reactivated",
    ]
    assert all(e["who"] is None for e in entries)
    assert all(e["target"] == ("moderator", "clara") for e in entries)
    assert NEW_PASSWORD not in _all_entries_json(app)


# -- Webhooks and mail -----------------------------------------------------------


def test_webhook_endpoint_changes_are_recorded_without_secrets(
    app, admin_client, runner
):
    page = admin_client.get("/moderation/webhooks/").get_data(as_text=True)
    since = _last_id(app)
    response = admin_client.post(
        "/moderation/webhooks/",
        data={
            "csrf_token": csrf_from(page),
            "site": "news",
            "url": "http://127.0.0.1:9/hook",
        },
    )
    assert response.status_code == 200
    secrets = re.findall(r"whsec_[A-Za-z0-9+/=_-]+", response.get_data(as_text=True))
    assert secrets
    with app.app_context():
        endpoint_id = db.session.scalar(
            sa.text("SELECT max(id) FROM webhook_endpoints")
        )
    base = f"/moderation/webhooks/{endpoint_id}"
    for action in ("rotate-secret", "disable", "enable"):
        token = _csrf(admin_client, base)
        response = admin_client.post(f"{base}/{action}", data={"csrf_token": token})
        assert response.status_code in (200, 302)
        secrets += re.findall(r"whsec_[A-Za-z0-9+/=_-]+", response.get_data(True))
    entries = _new_entries(app, since)
    assert [e["kind"] for e in entries] == [
        "webhook.endpoint_added",
        "webhook.secret_rotated",
        "webhook.endpoint_disabled",
        "webhook.endpoint_enabled",
    ]
    assert all(e["who"] == "boss" and e["site"] == "news" for e in entries)
    assert entries[1]["changes"] == {"secret": "changed"}

    since = _last_id(app)
    _run(runner, "webhooks", "add", "news", "http://127.0.0.1:9/other")
    _run(runner, "webhooks", "rotate-secret", str(endpoint_id))
    cli = _new_entries(app, since)
    assert [(e["kind"], e["who"]) for e in cli] == [
        ("webhook.endpoint_added", None),
        ("webhook.secret_rotated", None),
    ]
    everything = _all_entries_json(app)
    assert "whsec_" not in everything
    with app.app_context():
        stored = db.session.execute(
            sa.text("SELECT secret, previous_secret FROM webhook_endpoints")
        ).all()
    for secret in [*secrets, *(s for row in stored for s in row if s)]:
        assert secret not in everything
    html = admin_client.get(AUDIT, query_string={"kind": "webhooks"}).get_data(True)
    assert f'<a href="{base}">http://127.0.0.1:9/hook</a>' in html


def test_mail_settings_are_recorded(app, mod_client, runner):
    page = "/moderation/account/mail"
    since = _last_id(app)
    response = mod_client.post(
        page, data={"csrf_token": _csrf(mod_client, page), "mode-news": "daily"}
    )
    assert response.status_code == 302
    _run(runner, "mail", "settings", "mod", "--site", "news", "--mode", "none")
    entries = _new_entries(app, since)
    assert [(e["kind"], e["who"], e["site"], e["changes"]) for e in entries] == [
        ("mail.settings", "mod", "news", {"mode": ["each", "daily"]}),
        ("mail.settings", None, "news", {"mode": ["daily", "none"]}),
    ]


# -- The page: decisions, links, visibility --------------------------------------


def _decide(app, comment_id, status, username="mod", reason=None):
    with app.app_context():
        version = db.session.scalar(
            sa.text("SELECT version FROM comments WHERE id = :id"), {"id": comment_id}
        )
        moderate(_moderator(username), [Target(comment_id, version)], status, reason)


def test_decisions_and_entries_are_listed_together_newest_first(app, mod_client):
    first = _comment(app, author="Alice")
    _decide(app, first, CommentStatus.APPROVED, reason="fine")
    _ban(app, mod_client)
    html = mod_client.get(AUDIT).get_data(as_text=True)
    assert html.index("Banned") < html.index(f"comment #{first} by Alice")
    assert (
        f'Moved <a href="/moderation/comments/{first}">comment #{first} by Alice</a>'
        " from pending to approved: “fine”"
    ) in html
    assert 'data-label="When"' in html and "data-local" in html
    # A moderator gets no links to admin pages.
    assert "/moderation/moderators/" not in html
    assert "/moderation/sites/" not in html


def test_a_moderator_sees_only_their_sites_and_never_accounts(app, two_sites, runner):
    boss, mod, blogger = (logged_in_client(app, n) for n in ("boss", "mod", "blogger"))
    _ban(app, mod, "news")
    _ban(app, blogger, "blog")
    blog_comment = _comment(app, "blog", author="Bob")
    _decide(app, blog_comment, CommentStatus.REJECTED, username="blogger")
    _run(runner, "sites", "update", "blog", "--name", "Blog Renamed")
    _run(runner, "sites", "update", "news", "--max-reply-depth", "7")
    _run(runner, "moderators", "sites", "mod", "--add-site", "news")  # no change
    _run(runner, "moderators", "deactivate", "blogger")
    _run(runner, "moderators", "reactivate", "blogger")
    _run(runner, "mail", "settings", "boss", "--site", "news", "--mode", "daily")
    _run(runner, "webhooks", "add", "news", "http://127.0.0.1:9/hook?token=t0k3n")

    html = mod.get(AUDIT).get_data(as_text=True)
    assert "Banned" in html
    assert "Example News" in html
    assert "max reply depth: 4 → 7" in html
    for hidden in ("A Blog", "Blog Renamed", "Bob", "Deactivated", "Reactivated"):
        assert hidden not in html
    assert "mail settings of" not in html  # the admin's own, not theirs
    assert "t0k3n" not in html  # webhooks are the admins'
    assert "No entries match." in mod.get(
        AUDIT, query_string={"kind": "webhooks"}
    ).get_data(as_text=True)
    # Filtering cannot reach another site's entries either.
    other = mod.get(AUDIT, query_string={"site": "blog"})
    assert other.status_code == 400
    assert "There is no site &#39;blog&#39; among yours." in other.get_data(True)
    assert "Bob" not in mod.get(
        AUDIT, query_string={"comment": str(blog_comment)}
    ).get_data(as_text=True)

    everything = boss.get(AUDIT).get_data(as_text=True)
    for shown in (
        "Blog Renamed",
        "Bob",
        "Deactivated",
        "Reactivated",
        "mail settings",
        "t0k3n",
    ):
        assert shown in everything


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kind": "everything"}, "&#39;everything&#39; is not a kind of entry."),
        ({"site": "nowhere"}, "There is no site &#39;nowhere&#39; among yours."),
        ({"site": "bad\x00slug"}, "There is no site"),
        ({"who": "ghost"}, "There is no moderator &#39;ghost&#39; to filter by."),
        ({"comment": "abc"}, "is not a comment number."),
        ({"comment": "99999999999999"}, "is not a comment number."),
    ],
)
def test_bad_filter_values_say_so(app, mod_client, query, message):
    response = mod_client.get(AUDIT, query_string=query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert "Nothing to show." in html


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "1.7.1",
        "99999999999999999999999.1.1",
        f"1.1.{2**31}",  # an id past the integer column
        f"1.0.{2**63}",
        "1.1.0",
        f"{-(2**62)}.1.1",  # before year 1
    ],
)
def test_a_forged_page_link_is_422(app, mod_client, after):
    response = mod_client.get(AUDIT, query_string={"after": after})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That page link is not valid." in html
    assert "Nothing to show." in html


def test_filters_by_kind_who_site_comment_and_thread(app, two_sites, runner):
    boss = logged_in_client(app, "boss")
    mod = logged_in_client(app, "mod")
    on_a = _comment(app, thread="/a", author="Anna")
    on_b = _comment(app, thread="/b", author="Bert")
    _decide(app, on_a, CommentStatus.APPROVED)
    _decide(app, on_b, CommentStatus.SPAM, username="boss")
    _ban(app, mod)
    _run(runner, "sites", "update", "blog", "--name", "Blog Renamed")

    def shown(**query):
        response = boss.get(AUDIT, query_string=query)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    decisions = shown(kind="decisions")
    assert "Anna" in decisions and "Bert" in decisions and "Banned" not in decisions
    bans = shown(kind="bans")
    assert "Banned" in bans and "Anna" not in bans
    settings = shown(kind="settings")
    assert "Blog Renamed" in settings and "Banned" not in settings
    by_boss = shown(who="boss")
    assert "Bert" in by_boss and "Anna" not in by_boss
    by_mod = shown(who="mod")
    assert "Anna" in by_mod and "Banned" in by_mod and "Bert" not in by_mod
    by_cli = shown(who="none")
    assert "Blog Renamed" in by_cli and "Anna" not in by_cli
    on_blog = shown(site="blog")
    assert "Blog Renamed" in on_blog and "Anna" not in on_blog
    one = shown(comment=f"#{on_a}")
    assert "Anna" in one and "Bert" not in one
    thread = shown(thread="/b")
    assert "Bert" in thread and "Anna" not in thread
    empty = shown(kind="mail")
    assert "No entries match." in empty


def test_pages_walk_every_item_once_newest_first(app, two_sites):
    with app.app_context():
        news = _site()
        comment = make_comment(news, status=CommentStatus.PENDING)
        mod = _moderator("mod")
        now = utcnow()
        # Pairs with the very same time: ties between the two tables and
        # within each are broken the same way on every page.
        for n in range(PAGE):
            at = now - timedelta(seconds=n // 2)
            db.session.add(
                ModerationEvent(
                    site_id=news.id,
                    comment_id=comment.id,
                    moderator_id=mod.id,
                    from_status=CommentStatus.PENDING,
                    to_status=CommentStatus.APPROVED,
                    reason=f"decision {n}",
                    created_at=at,
                )
            )
            db.session.add(
                AuditEntry(
                    site_id=news.id,
                    moderator_id=mod.id,
                    kind="ban.lifted",
                    target_type="ban",
                    target_id=n + 1,
                    target_label=f"ip 192.0.2.{n}",
                    changes={},
                    created_at=at,
                )
            )
        db.session.commit()
    client = logged_in_client(app, "mod")
    seen, url, pages = [], AUDIT, 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r"“decision (\d+)”|ip 192\.0\.2\.(\d+)<", html)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        pages += 1
    assert pages == 3
    names = [f"d{d}" if d else f"b{b}" for d, b in seen]
    assert len(names) == 2 * PAGE == len(set(names))
    # Newest first: each second, decisions before entries, higher ids first.
    assert names[:4] == ["d1", "d0", "b1", "b0"]


# -- The comment's page ------------------------------------------------------------


def test_the_comment_page_shows_the_comment_and_its_history(app, mod_client):
    with app.app_context():
        parent = make_comment(_site(), thread="/story", author="Pat").id
        child = make_comment(
            _site(),
            thread="/story",
            status=CommentStatus.PENDING,
            author="Troll",
            email="troll@example.org",
            parent_id=parent,
        ).id
    _decide(app, child, CommentStatus.SPAM, reason="junk")
    response = mod_client.post(
        f"/moderation/comments/{child}/ban",
        data={
            "kind": "email",
            "reason": "again",
            "csrf_token": _csrf(mod_client, "/moderation/queue"),
        },
    )
    assert response.status_code == 302
    page = mod_client.get(f"/moderation/comments/{child}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<span class="badge status-spam">spam</span>' in html
    assert f'href="/moderation/comments/{parent}">comment #{parent} by Pat</a>' in html
    assert "from pending to spam: “junk”" in html
    assert "Banned" in html and "email troll@example.org" in html
    queue_link = re.search(r'<a href="([^"]+)"[^>]*>Open in the queue</a>', html)
    target = queue_link.group(1).replace("&amp;", "&")
    assert target.startswith("/moderation/queue?")
    for part in ("status=spam", "site=news", "thread=/story"):
        assert part in target.replace("%2F", "/")

    assert mod_client.get("/moderation/comments/99999999").status_code == 404
    assert mod_client.get("/moderation/comments/99999999999999").status_code == 404
    blog_comment = _comment(app, "blog")
    assert mod_client.get(f"/moderation/comments/{blog_comment}").status_code == 403

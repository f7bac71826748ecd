"""Closing threads: per site N days after a thread's first comment, per thread
by a moderator (the moderation UI, the CLI). The listing says so, a post is
refused 403 thread_closed before its captcha token is spent."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from factories import ORIGIN, comment_payload, get_site, make_comment, make_site

from commentsvc import sites
from commentsvc.comments import closing
from commentsvc.comments.errors import ThreadNotFound, ValidationFailed
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Role, Site, Thread, utcnow
from commentsvc.moderation.accounts import create_moderator

API = "/api/v1/sites/news/comments"
LISTING = API + "?thread=/article"
TOKEN_URL = "/api/v1/sites/news/captcha/dev-token"
PASSWORD = "correct horse battery"


@pytest.fixture
def site(app):
    with app.app_context():
        make_site()


def _add(app, thread="/article", status=CommentStatus.APPROVED) -> int:
    with app.app_context():
        return make_comment(get_site("news"), thread=thread, status=status).id


def _age(app, days: float, thread: str = "/article") -> None:
    """Make the thread's first comment *days* old."""
    with app.app_context():
        db.session.execute(
            sa.update(Thread)
            .where(Thread.key == thread)
            .values(created_at=utcnow() - timedelta(days=days))
        )
        db.session.commit()


def _set(app, state, thread="/article", slug="news"):
    with app.app_context():
        closing.set_open(slug, thread, state)


def _thread(app, key="/article") -> Thread:
    with app.app_context():
        thread = db.session.scalar(sa.select(Thread).where(Thread.key == key))
        db.session.expunge(thread)
        return thread


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Comment.id)))


def _post(client, **fields):
    return client.post(API, json=comment_payload(**fields), headers={"Origin": ORIGIN})


# --- the rule ----------------------------------------------------------------------


def test_is_closed_follows_the_moderator_then_the_site_rule():
    class Row:
        def __init__(self, comments_open, days_old):
            self.comments_open = comments_open
            self.created_at = utcnow() - timedelta(days=days_old)

    class SiteRule:
        def __init__(self, days):
            self.close_after_days = days

    never, week = SiteRule(None), SiteRule(7)
    assert not closing.is_closed(week, None)  # a new thread is open
    assert not closing.is_closed(never, Row(None, 1000))
    assert not closing.is_closed(week, Row(None, 6.9))
    assert closing.is_closed(week, Row(None, 7.1))
    assert not closing.is_closed(week, Row(True, 100))  # a moderator opened it
    assert closing.is_closed(never, Row(False, 0))  # a moderator closed it
    assert closing.is_closed(week, Row(False, 0))


# --- the API -----------------------------------------------------------------------


def test_the_listing_says_whether_the_thread_is_closed(app, client, site):
    assert client.get(LISTING).json["closed"] is False  # no thread yet
    _add(app)
    assert client.get(LISTING).json["closed"] is False

    _set(app, False)
    assert client.get(LISTING).json["closed"] is True
    assert client.get(LISTING).json["count"] == 1  # its comments still shown

    _set(app, True)
    assert client.get(LISTING).json["closed"] is False


def test_a_post_to_a_closed_thread_is_403_thread_closed_and_stores_nothing(
    app, client, site
):
    _add(app)
    _set(app, False)

    response = _post(client)

    assert response.status_code == 403
    error = response.json["error"]
    assert error["code"] == "thread_closed"
    assert error["message"] == "Comments are closed."
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert _stored(app) == 1
    # Another thread of the site still takes comments.
    assert _post(client, thread="/other", url=f"{ORIGIN}/other").status_code == 202


def test_a_closed_thread_refuses_before_the_captcha_token_is_spent(make_app):
    app = make_app(CAPTCHA_DEV_ENABLED=True)
    with app.app_context():
        make_comment(make_site())
        sites.update_site("news", captcha_provider="dev")
    client = app.test_client()
    _set(app, False)
    token = client.post(TOKEN_URL, headers={"Origin": ORIGIN}).json["token"]

    refused = _post(client, captcha_token=token)
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "thread_closed"

    # The token was not spent: once the thread is open again, it still works.
    _set(app, True)
    accepted = _post(client, captcha_token=token)
    assert accepted.status_code == 202, accepted.json


def test_threads_close_some_days_after_their_first_comment(app, client, site):
    with app.app_context():
        sites.update_site("news", close_after_days=7)
    _add(app)
    _age(app, 6)
    assert client.get(LISTING).json["closed"] is False
    assert _post(client).status_code == 202

    _age(app, 8)
    assert client.get(LISTING).json["closed"] is True
    assert _post(client).json["error"]["code"] == "thread_closed"

    # A moderator's choice overrides the site's rule, and can be taken back.
    _set(app, True)
    assert client.get(LISTING).json["closed"] is False
    assert _post(client).status_code == 202
    _set(app, None)
    assert client.get(LISTING).json["closed"] is True

    # The site's rule off: open again.
    with app.app_context():
        sites.update_site("news", close_after_days="off")
    assert client.get(LISTING).json["closed"] is False


def test_a_new_thread_on_a_site_that_closes_threads_is_open(app, client, site):
    with app.app_context():
        sites.update_site("news", close_after_days=1)

    response = _post(client, thread="/brand-new", url=f"{ORIGIN}/brand-new")

    assert response.status_code == 202
    listing = client.get(API + "?thread=/brand-new").json
    assert listing["closed"] is False


def test_a_closed_thread_is_seen_at_once_through_the_read_cache(make_app):
    app = make_app(READ_CACHE_TTL=60)
    with app.app_context():
        make_comment(make_site())
    client = app.test_client()
    assert client.get(LISTING).json["closed"] is False
    assert app.extensions["commentsvc.read_cache"].subscribed.wait(5)
    assert _post(client).status_code == 202  # the thread's row is cached too

    _set(app, False)

    assert client.get(LISTING).json["closed"] is True
    assert _post(client).json["error"]["code"] == "thread_closed"
    _set(app, True)
    assert client.get(LISTING).json["closed"] is False
    assert _post(client).status_code == 202


def test_set_open_names_unknown_sites_and_threads(app, site):
    with app.app_context(), pytest.raises(ThreadNotFound):
        closing.set_open("news", "/never", False)


@pytest.mark.parametrize(
    "given, stored",
    [
        (7, 7),
        ("30", 30),
        (" 365 ", 365),
        (0, None),
        ("0", None),
        ("off", None),
        ("", None),
        (None, None),
    ],
)
def test_close_after_days_setting(app, site, given, stored):
    with app.app_context():
        assert sites.update_site("news", close_after_days=given).close_after_days == (
            stored
        )


@pytest.mark.parametrize("given", [-1, "soon", "1.5", 36_501])
def test_close_after_days_refuses_nonsense(app, site, given):
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            sites.update_site("news", close_after_days=given)
        assert set(refused.value.fields) == {"close_after_days"}


# --- the CLI -----------------------------------------------------------------------


def test_cli_closes_opens_and_lists_threads(app, runner, site):
    _add(app, "/article")
    _add(app, "/other", CommentStatus.PENDING)

    result = runner.invoke(args=["threads", "close", "news", "/article"])
    assert result.exit_code == 0, result.output
    assert "closed news /article" in result.output
    assert _thread(app).comments_open is False

    listed = runner.invoke(args=["threads", "list", "news"]).output.splitlines()
    assert [line.split("\t")[:4] for line in listed] == [
        ["/other", "open", "site rule", "0"],
        ["/article", "closed", "moderator", "1"],
    ]
    closed = runner.invoke(args=["threads", "list", "news", "--closed"])
    assert [line.split("\t")[0] for line in closed.output.splitlines()] == ["/article"]

    assert runner.invoke(args=["threads", "open", "news", "/article"]).exit_code == 0
    assert _thread(app).comments_open is True
    result = runner.invoke(args=["threads", "follow-site", "news", "/article"])
    assert result.exit_code == 0
    assert _thread(app).comments_open is None


def test_cli_says_what_is_missing(app, runner, site):
    unknown_site = runner.invoke(args=["threads", "close", "nosuch", "/article"])
    assert unknown_site.exit_code == 1
    assert "no site 'nosuch'" in unknown_site.output

    unknown_thread = runner.invoke(args=["threads", "close", "news", "/never"])
    assert unknown_thread.exit_code == 1
    assert "no thread '/never'" in unknown_thread.output

    assert runner.invoke(args=["threads", "list", "nosuch"]).exit_code == 1


def test_cli_sets_and_turns_off_the_site_rule(app, runner, site):
    def days():
        with app.app_context():
            return get_site("news").close_after_days

    result = runner.invoke(args=["sites", "update", "news", "--close-after-days", "14"])
    assert result.exit_code == 0, result.output
    assert days() == 14
    assert "close_after_days=14" in runner.invoke(args=["sites", "list"]).output
    _add(app)
    _age(app, 15)
    listed = runner.invoke(args=["threads", "list", "news", "--closed"]).output
    assert listed.startswith("/article\tclosed\tsite rule\t1\t")

    for off in ("off", "0"):
        runner.invoke(args=["sites", "update", "news", "--close-after-days", "9"])
        result = runner.invoke(
            args=["sites", "update", "news", "--close-after-days", off]
        )
        assert result.exit_code == 0, result.output
        assert days() is None

    bad = runner.invoke(args=["sites", "update", "news", "--close-after-days", "x"])
    assert bad.exit_code == 1
    assert "error: --close-after-days: " in bad.output


# --- the moderation UI -------------------------------------------------------------


@pytest.fixture
def moderators(app, site):
    with app.app_context():
        make_site("blog", "A Blog", allowed_origins=["https://blog.example"])
        create_moderator("mod", PASSWORD, site_slugs=["news"])
        create_moderator("blogger", PASSWORD, site_slugs=["blog"])
        create_moderator("boss", PASSWORD, role=Role.ADMIN)


def _logged_in(app, username):
    from crawl import log_in

    return log_in(app, username, PASSWORD)


def _thread_form(page: str, comment_id: int) -> str:
    """The action of the open/close form of the comment's card."""
    import re

    match = re.search(
        rf'<form method="post" action="([^"]+)" id="thread-{comment_id}"', page
    )
    assert match, "no open/close form for the comment"
    return match.group(1)


def test_a_moderator_closes_and_opens_a_thread_from_the_queue(app, moderators):
    from crawl import csrf_from

    comment_id = _add(app, status=CommentStatus.PENDING)
    client = _logged_in(app, "mod")
    page = client.get("/moderation/queue").get_data(as_text=True)
    assert "Comments open" in page
    assert f'form="thread-{comment_id}" name="state" value="closed"' in page
    action = _thread_form(page, comment_id)

    response = client.post(
        action,
        data={
            "csrf_token": csrf_from(page),
            "state": "closed",
            "next": "/moderation/queue",
        },
    )
    assert response.status_code == 302
    assert _thread(app).comments_open is False
    page = client.get("/moderation/queue").get_data(as_text=True)
    assert "\u201c/article\u201d is closed to new comments." in page
    assert "Comments closed" in page
    assert f'form="thread-{comment_id}" name="state" value="open"' in page
    assert f'form="thread-{comment_id}" name="state" value="site"' in page
    assert app.test_client().get(LISTING).json["closed"] is True

    client.post(action, data={"csrf_token": csrf_from(page), "state": "site"})
    assert _thread(app).comments_open is None


def test_the_queue_shows_the_site_rule(app, moderators):
    with app.app_context():
        sites.update_site("news", close_after_days=3)
    _add(app, status=CommentStatus.PENDING)
    _age(app, 4)
    page = _logged_in(app, "mod").get("/moderation/queue").get_data(as_text=True)
    assert "Comments closed (site rule: closes 3 days after the first comment)" in page


def test_only_the_sites_moderators_may_open_or_close_and_csrf_is_checked(
    app, moderators
):
    from crawl import csrf_from

    comment_id = _add(app, status=CommentStatus.PENDING)
    mod = _logged_in(app, "mod")
    page = mod.get("/moderation/queue").get_data(as_text=True)
    action = _thread_form(page, comment_id)

    blogger = _logged_in(app, "blogger")
    blog_page = blogger.get("/moderation/queue").get_data(as_text=True)
    refused = blogger.post(
        action, data={"csrf_token": csrf_from(blog_page), "state": "closed"}
    )
    assert refused.status_code == 403

    no_token = mod.post(action, data={"state": "closed"})
    assert no_token.status_code in (302, 400)
    unknown = mod.post(action, data={"csrf_token": csrf_from(page), "state": "shut"})
    assert unknown.status_code == 302
    assert _thread(app).comments_open is None

    anonymous = app.test_client().post(action, data={"state": "closed"})
    assert anonymous.status_code in (302, 400, 401)
    assert _thread(app).comments_open is None


def test_the_admin_sets_the_site_rule_in_the_settings_form(app, moderators):
    from crawl import csrf_from

    admin = _logged_in(app, "boss")
    settings = "/moderation/sites/news/settings"
    page = admin.get(settings).get_data(as_text=True)
    assert 'name="close_after_days"' in page

    def save(value):
        page = admin.get(settings).get_data(as_text=True)
        return admin.post(
            settings,
            data={
                "csrf_token": csrf_from(page),
                "name": "Example News",
                "allowed_origins": ORIGIN,
                "captcha_provider": "none",
                "captcha_score_threshold": "0.5",
                "moderation_policy": "hold_all",
                "trusted_author_min_approved": "1",
                "max_length": "5000",
                "max_links": "2",
                "min_submit_seconds": "3",
                "close_after_days": value,
            },
        )

    def stored():
        with app.app_context():
            return db.session.scalar(
                sa.select(Site.close_after_days).where(Site.slug == "news")
            )

    assert save("30").status_code == 302
    assert stored() == 30
    assert (
        'name="close_after_days" placeholder="never" type="text" value="30"'
        in admin.get(settings).get_data(as_text=True)
    )
    refused = save("soon")
    assert refused.status_code == 422
    assert "A number of days" in refused.get_data(as_text=True)
    assert stored() == 30
    assert save("").status_code == 302
    assert stored() is None


def test_cli_names_a_key_with_a_nul_byte_as_missing(app, runner, site):
    # It stopped with a traceback on PostgreSQL.
    result = runner.invoke(args=["threads", "close", "news", "/art\x00icle"])
    assert result.exit_code == 1
    assert result.output.startswith("error: site 'news' has no thread")
    result = runner.invoke(args=["threads", "close", "ne\x00ws", "/article"])
    assert result.output.startswith("error: there is no site")

"""`flask --app wsgi import wordpress FILE --site SLUG` on a realistic WXR 1.2
export: statuses, nesting, unicode, HTML reduced to what we allow, pingbacks,
a missing parent, a duplicate id; again adds nothing; the public listing shows
it; no webhook event."""

from datetime import UTC, datetime

import sqlalchemy as sa

from commentsvc.comments.render import render_body
from commentsvc.extensions import db
from commentsvc.models import (
    CommentStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    as_utc,
)

from .conftest import DATA, comments, counts, run, threads

WXR = DATA / "wordpress.xml"
HELLO = "/2015/03/hello-world/"
CAFE = "/2016/01/caf%C3%A9/"  # as the embed's new URL(...).pathname gives it


def _import(runner, *extra):
    return run(runner, "import", "wordpress", WXR, "--site", "news", *extra)


def test_threads_statuses_nesting_and_fields(app, runner, site):
    result = _import(runner)
    assert "threads: 2 (2 new)" in result.output
    assert (
        "comments imported: 10, pending 1, approved 7, spam 1, deleted 1"
        in result.output
    )
    assert "kept as top-level comments: 2" in result.output
    assert "skipped: 1 pingback" in result.output
    assert "skipped: 1 trackback" in result.output
    assert "skipped: 1 duplicate id in the file" in result.output
    assert "skipped: 1 empty body" in result.output

    with app.app_context():
        found = threads()
        assert set(found) == {HELLO, CAFE}  # the item without comments: none
        hello, cafe = found[HELLO], found[CAFE]
        assert hello.url == "https://news.example/2015/03/hello-world/"
        assert hello.title == "Hello world"
        assert cafe.title == "Café ☕ and unicode paths"
        # A thread starts at its first comment (threads close by age from it).
        assert as_utc(hello.created_at) == datetime(2015, 3, 2, 11, tzinfo=UTC)
        assert as_utc(cafe.created_at) == datetime(2016, 1, 2, 10, tzinfo=UTC)

        c = comments()
        assert set(c) == {
            f"wordpress:{n}" for n in (11, 12, 13, 14, 15, 16, 17, 18)
        } | {
            "wordpress:31",
            "wordpress:32",
        }
        status = {k.split(":")[1]: v.status for k, v in c.items()}
        assert status["11"] == CommentStatus.APPROVED
        assert status["15"] == CommentStatus.PENDING
        assert status["16"] == CommentStatus.SPAM
        assert status["17"] == CommentStatus.DELETED

        ann, bea, carl, dan, eve = (c[f"wordpress:{n}"] for n in (11, 12, 13, 14, 15))
        # Nested replies keep their parent; root_id names the top-level comment.
        assert ann.parent_id is None and ann.root_id is None
        assert (bea.parent_id, bea.root_id) == (ann.id, ann.id)
        assert (carl.parent_id, carl.root_id) == (bea.id, ann.id)  # before its parent
        assert (dan.parent_id, dan.root_id) == (carl.id, ann.id)
        assert (eve.parent_id, eve.root_id) == (ann.id, ann.id)
        # Parent not in the file, or in another thread: top-level.
        for orphan in ("wordpress:18", "wordpress:32"):
            assert (c[orphan].parent_id, c[orphan].root_id) == (None, None)
        # The duplicate id kept the first comment.
        assert bea.author == "Bea مرحبا"

        assert ann.author == "Ann Reader"
        assert ann.email == "ann@example.org"
        assert ann.ip == "192.0.2.11"
        assert carl.ip == "2001:db8::13"
        assert c["wordpress:31"].ip is None  # "not-an-ip"
        assert as_utc(ann.created_at) == datetime(2015, 3, 2, 11, tzinfo=UTC)
        # No GMT date: the local one, taken as UTC.
        assert as_utc(c["wordpress:31"].created_at) == datetime(
            2016, 1, 2, 10, tzinfo=UTC
        )
        assert ann.page_title == "Hello world"
        assert ann.signals["import"] == {
            "source": "wordpress",
            "id": "11",
            "author_url": "https://ann.example",
        }

        # HTML reduced to our text form; rendered by our renderer.
        assert ann.body == (
            "First! my post (https://ann.example/post) is related.\n\nSecond paragraph."
        )
        assert ann.body_html == (
            '<p>First! my post (<a href="https://ann.example/post" '
            'rel="nofollow ugc noopener">https://ann.example/post</a>) is related.</p>'
            "<p>Second paragraph.</p>"
        )
        assert dan.body == "Three levels deep.\nNew line & an entity."
        assert carl.body == "Reply to Bea, two levels deep: 你好，世界 🎉"
        for comment in c.values():
            assert comment.body_html == render_body(comment.body)
            for bad in ("<script", "onclick", "<strong", "steal", "alert"):
                assert bad not in comment.body_html


def test_pingbacks_and_trackbacks_on_request(app, runner, site):
    result = _import(runner, "--keep-pingbacks")
    assert "comments imported: 12," in result.output
    with app.app_context():
        c = comments()
        assert c["wordpress:19"].author == "Other Blog"
        assert c["wordpress:19"].body == "[…] as seen on Example News […]"
        assert c["wordpress:19"].signals["import"]["type"] == "pingback"
        assert c["wordpress:20"].body == "Track Blog wrote about this post."


def test_importing_again_adds_nothing(app, runner, site):
    _import(runner)
    with app.app_context():
        before = counts()
        stored = {k: (v.id, v.parent_id, v.root_id) for k, v in comments().items()}
    again = _import(runner)
    assert "comments imported: 0" in again.output
    assert "skipped: 11 already imported" in again.output
    with app.app_context():
        assert counts() == before
        assert {k: (v.id, v.parent_id, v.root_id) for k, v in comments().items()} == (
            stored
        )


def test_no_webhook_event_for_imported_comments(app, runner, site):
    with app.app_context():
        site_id = db.session.scalar(sa.text("SELECT id FROM sites WHERE slug='news'"))
        db.session.add(
            WebhookEndpoint(
                site_id=site_id, url="https://hooks.example/in", events=[], secret="s"
            )
        )
        db.session.commit()
    _import(runner)
    with app.app_context():
        for model in (WebhookEvent, WebhookDelivery):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_the_public_listing_shows_the_imported_thread(make_app, site):
    # The read cache on: an empty listing read before the import is cached, and
    # the import must invalidate it.
    app = make_app(READ_CACHE_TTL=300)
    client = app.test_client()
    url = f"/api/v1/sites/news/comments?thread={HELLO}"
    assert client.get(url).get_json()["count"] == 0

    run(app.test_cli_runner(), "import", "wordpress", WXR, "--site", "news")

    listing = client.get(url).get_json()
    with app.app_context():
        c = comments()
        ids = {c[f"wordpress:{n}"].id: n for n in (11, 12, 13, 14, 18)}
    shown = {ids[item["id"]]: item for item in listing["comments"]}
    # Approved only: held (15), spam (16), deleted (17) are not shown.
    assert set(shown) == {11, 12, 13, 14, 18}
    assert listing["count"] == 5
    parent = {n: ids.get(item["parent_id"]) for n, item in shown.items()}
    assert parent == {11: None, 12: 11, 13: 12, 14: 13, 18: None}
    assert shown[12]["author"] == "Bea مرحبا"
    assert shown[11]["created_at"] == "2015-03-02T11:00:00Z"


def test_key_options(app, runner, site, tmp_path):
    key_map = tmp_path / "keys.csv"
    key_map.write_text("url,key\nhttps://news.example/2015/03/hello-world/,hello\n")
    run(
        runner,
        *("import", "wordpress", WXR, "--site", "news"),
        *("--key", "url", "--key-map", key_map),
    )
    with app.app_context():
        assert set(threads()) == {"hello", "https://news.example/2016/01/café/"}


def test_key_by_post_id(app, runner, site):
    _import(runner, "--key", "id")
    with app.app_context():
        assert set(threads()) == {"1", "2"}


def test_unknown_site_and_wrong_file(app, runner, site):
    result = runner.invoke(args=["import", "wordpress", str(WXR), "--site", "nope"])
    assert result.exit_code == 1
    assert "there is no site 'nope'" in result.output
    wrong = runner.invoke(
        args=["import", "wordpress", str(DATA / "disqus.xml"), "--site", "news"]
    )
    assert wrong.exit_code == 1
    assert "not a WordPress export (WXR): the root element is <disqus>" in (
        wrong.output
    )
    with app.app_context():
        assert counts() == (0, 0)


def test_an_interrupted_import_is_completed_by_running_it_again(
    app, runner, site, tmp_path
):
    # The file breaks after the first post's comments: small batches were
    # committed (the replies not yet linked to their parents).
    text = WXR.read_text(encoding="utf-8")
    cut = tmp_path / "cut.xml"
    cut.write_text(text[: text.index("<title>Café")], encoding="utf-8")
    broken = runner.invoke(
        args=["import", "wordpress", str(cut), "--site", "news", "--batch-size", "2"]
    )
    assert broken.exit_code == 1
    assert "not well-formed XML" in broken.output
    with app.app_context():
        assert 0 < counts()[0] < 10

    _import(runner)
    with app.app_context():
        assert counts()[0] == 10
        c = comments()
        ann, bea, carl, dan = (c[f"wordpress:{n}"] for n in (11, 12, 13, 14))
        assert (bea.parent_id, bea.root_id) == (ann.id, ann.id)
        assert (carl.parent_id, carl.root_id) == (bea.id, ann.id)
        assert (dan.parent_id, dan.root_id) == (carl.id, ann.id)

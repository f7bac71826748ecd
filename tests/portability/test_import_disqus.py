"""`flask --app wsgi import disqus FILE --site SLUG`: threads listed apart
from posts, posts before their parents and their thread, spam and deleted
posts, a missing parent, a duplicate id, a post of an unknown thread."""

from datetime import UTC, datetime

from commentsvc.comments.render import render_body
from commentsvc.models import CommentStatus, as_utc

from .conftest import DATA, comments, counts, run, threads

EXPORT = DATA / "disqus.xml"
HELLO = "/2015/03/hello-world/"
CAFE = "/2016/01/caf%C3%A9/"


def _import(runner, *extra):
    return run(runner, "import", "disqus", EXPORT, "--site", "news", *extra)


def test_posts_threads_statuses_and_order(app, runner, site):
    result = _import(runner)
    assert "threads: 2 (2 new)" in result.output
    assert "comments imported: 9, approved 7, spam 1, deleted 1" in result.output
    assert "kept as top-level comments: 1" in result.output
    assert "skipped: 1 duplicate id in the file" in result.output
    assert "skipped: 1 post of a thread the file does not list" in result.output
    assert "skipped: 1 empty body" in result.output

    with app.app_context():
        found = threads()
        assert set(found) == {HELLO, CAFE}
        assert found[HELLO].title == "Hello world"
        assert found[CAFE].url == "https://news.example/2016/01/café/"
        assert found[CAFE].title == "Café ☕ and unicode paths"
        assert as_utc(found[HELLO].created_at) == datetime(2015, 3, 2, 11, tzinfo=UTC)

        c = {k.split(":")[1]: v for k, v in comments().items()}
        assert set(c) == {str(n) for n in range(3001, 3011) if n != 3009}
        ann, bea, carl, dan = c["3001"], c["3002"], c["3003"], c["3004"]
        # 3003 comes first in the file, before its parent and grandparent.
        assert (ann.parent_id, ann.root_id) == (None, None)
        assert (bea.parent_id, bea.root_id) == (ann.id, ann.id)
        assert (carl.parent_id, carl.root_id) == (bea.id, ann.id)
        assert (dan.parent_id, dan.root_id) == (carl.id, ann.id)
        assert c["3005"].status == CommentStatus.SPAM
        deleted = c["3006"]
        assert deleted.status == CommentStatus.DELETED
        assert deleted.body == "[deleted]"  # its message was empty
        assert (c["3007"].parent_id, c["3007"].root_id) == (deleted.id, deleted.id)
        assert (c["3008"].parent_id, c["3008"].root_id) == (None, None)
        assert c["3010"].thread.key == CAFE  # thread listed after its posts

        assert bea.author == "Bea"  # the first of the two 3002
        assert ann.email == "ann@example.org"
        assert ann.ip == "192.0.2.1"
        assert carl.ip == "2001:db8::3"
        assert as_utc(carl.created_at) == datetime(2015, 3, 2, 14, tzinfo=UTC)
        assert ann.body == (
            "First! See my post (https://ann.example/post)\n\nSecond paragraph."
        )
        assert carl.body == "Reply to Bea (listed before her post), 你好 🎉"
        assert c["3010"].body == "On the second thread (listed after its posts). שלום"
        for comment in c.values():
            assert comment.body_html == render_body(comment.body)
            assert "<script" not in comment.body_html
            assert "target=" not in comment.body_html


def test_importing_again_adds_nothing(app, runner, site):
    _import(runner)
    with app.app_context():
        before = counts()
    again = _import(runner)
    assert "comments imported: 0" in again.output
    with app.app_context():
        assert counts() == before


def test_keys_by_disqus_identifier(app, runner, site):
    _import(runner, "--key", "id")
    with app.app_context():
        assert set(threads()) == {"1 https://news.example/?p=1", "cafe-post"}


def test_the_public_listing_keeps_replies_under_a_deleted_post(
    app, client, runner, site
):
    _import(runner)
    listing = client.get(f"/api/v1/sites/news/comments?thread={HELLO}").get_json()
    with app.app_context():
        ids = {v.id: k.split(":")[1] for k, v in comments().items()}
    shown = {
        ids[item["id"]]: ids.get(item["parent_id"]) for item in listing["comments"]
    }
    assert shown == {
        "3001": None,
        "3002": "3001",
        "3003": "3002",
        "3004": "3003",
        # A post deleted on Disqus with a published reply stays as a
        # placeholder, as one its author deleted here does.
        "3006": None,
        "3007": "3006",
        "3008": None,
    }
    placeholder = next(i for i in listing["comments"] if ids[i["id"]] == "3006")
    assert placeholder["deleted"] is True
    assert placeholder["author"] == placeholder["html"] == ""


def test_an_identifier_with_a_line_break_falls_back_to_the_path(
    app, runner, site, tmp_path
):
    # "--key id" stored an identifier with a line break or a tab inside as the
    # thread's key: a thread no page can list (the API refuses such keys).
    odd = tmp_path / "odd.xml"
    text = EXPORT.read_text(encoding="utf-8")
    odd.write_text(text.replace("<id>cafe-post</id>", "<id>cafe\n\tpost</id>"))

    run(runner, "import", "disqus", odd, "--site", "news", "--key", "id")

    with app.app_context():
        assert set(threads()) == {"1 https://news.example/?p=1", "/2016/01/caf%C3%A9/"}

"""`flask --app wsgi export SITE` then `import commentsvc FILE --site NEW`:
an empty site gets the same threads and comments, field by field."""

import json
from datetime import timedelta

import sqlalchemy as sa
from factories import ORIGIN, get_site, make_comment, make_site

from commentsvc.comments.service import ClientInfo, Submission, submit_comment
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Thread, utcnow

from .conftest import DATA, all_comments, comments, counts, run, threads

THREAD_FIELDS = ("url", "title", "created_at", "comments_open")
COMMENT_FIELDS = (
    "author",
    "email",
    "ip",
    "user_agent",
    "body",
    "body_html",
    "status",
    "page_title",
    "signals",
    "created_at",
    "moderated_at",
    "edited_at",
)


def _fill_news(app, runner):
    """Imported comments of both sources, and comments posted here: a reply, a
    user agent, signals, a moderation date, a closed thread, an empty thread."""
    run(runner, "import", "wordpress", DATA / "wordpress.xml", "--site", "news")
    run(
        runner, "import", "disqus", DATA / "disqus.xml", "--site", "news", "--key", "id"
    )
    with app.app_context():
        site = get_site("news")
        first = make_comment(site, thread="/posted", title="Posted here")
        stored = submit_comment(
            site,
            Submission(
                thread="/posted",
                url=f"{ORIGIN}/posted",
                author="Kim 🙂",
                body="A reply\n\nwith https://kim.example/ in it",
                parent_id=first.id,
                email="kim@example.org",
                title="Posted here",
            ),
            ClientInfo(ip="198.51.100.7", user_agent="Mozilla/5.0 (X11) Test"),
        )
        reply = db.session.get(Comment, stored.id)
        reply.status = CommentStatus.APPROVED
        reply.moderated_at = utcnow() - timedelta(minutes=3, microseconds=17)
        reply.edited_at = utcnow() - timedelta(minutes=2, microseconds=9)
        reply.signals = {**reply.signals, "held": ["links"]}
        thread = db.session.scalar(sa.select(Thread).where(Thread.key == "/posted"))
        thread.comments_open = False
        db.session.add(
            Thread(site_id=site.id, key="/empty", url=f"{ORIGIN}/empty", title=None)
        )
        db.session.commit()


def _key(comment: Comment) -> str:
    return comment.import_key or f"commentsvc:{comment.id}"


def test_export_then_import_into_an_empty_site_is_lossless(app, runner, site, tmp_path):
    _fill_news(app, runner)
    out = tmp_path / "news.json"
    result = run(runner, "export", "news", "--out", out)
    assert "exported 6 threads, 21 comments" in result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["format"] == "commentsvc-export"
    assert document["version"] == 1
    assert document["site"] == "news"

    with app.app_context():
        make_site("copy", "A copy")
    imported = run(runner, "import", "commentsvc", out, "--site", "copy")
    assert "threads: 6 (6 new)" in imported.output
    assert "comments imported: 21" in imported.output

    with app.app_context():
        old_threads, new_threads = threads("news"), threads("copy")
        assert set(old_threads) == set(new_threads)
        for key, old in old_threads.items():
            for name in THREAD_FIELDS:
                assert getattr(new_threads[key], name) == getattr(old, name), name

        old = {_key(c): c for c in all_comments("news")}
        new = comments("copy")
        assert set(new) == set(old)
        old_by_id = {c.id: key for key, c in old.items()}
        new_by_id = {c.id: key for key, c in new.items()}
        for key, before in old.items():
            after = new[key]
            for name in COMMENT_FIELDS:
                assert getattr(after, name) == getattr(before, name), (key, name)
            assert after.thread.key == before.thread.key
            assert new_by_id.get(after.parent_id) == old_by_id.get(before.parent_id)
            assert new_by_id.get(after.root_id) == old_by_id.get(before.root_id)
        # Deeply nested replies came through (Dan, three levels down).
        dan = new["wordpress:14"]
        assert new_by_id[dan.root_id] == "wordpress:11"

    again = run(runner, "import", "commentsvc", out, "--site", "copy")
    assert "comments imported: 0" in again.output


def test_the_reader_does_not_depend_on_the_layout(app, runner, site, tmp_path):
    _fill_news(app, runner)
    out = tmp_path / "news.json"
    run(runner, "export", "news", "--out", out)
    pretty = tmp_path / "pretty.json"
    pretty.write_text(
        json.dumps(json.loads(out.read_text()), indent=3, ensure_ascii=True)
    )
    with app.app_context():
        make_site("copy", "A copy")
    result = run(runner, "import", "commentsvc", pretty, "--site", "copy")
    assert "threads: 6 (6 new)" in result.output
    assert "comments imported: 21" in result.output


def test_export_to_stdout_and_a_foreign_file(app, runner, site, tmp_path):
    run(runner, "import", "wordpress", DATA / "wordpress.xml", "--site", "news")
    result = runner.invoke(args=["export", "news"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["records"]) == 12  # 2 threads, 10 comments
    assert "exported 2 threads, 10 comments" in result.stderr

    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else", "version": 1, "records": []}')
    refused = runner.invoke(args=["import", "commentsvc", str(other), "--site", "news"])
    assert refused.exit_code == 1
    assert "not a commentsvc export" in refused.output
    later = tmp_path / "later.json"
    later.write_text('{"format": "commentsvc-export", "version": 9, "records": []}')
    refused = runner.invoke(args=["import", "commentsvc", str(later), "--site", "news"])
    assert "export version 9 is not one this version reads" in refused.output
    with app.app_context():
        assert counts()[0] == 10


def test_importing_a_site_export_into_the_same_site_adds_nothing(
    app, runner, site, tmp_path
):
    _fill_news(app, runner)
    out = tmp_path / "news.json"
    run(runner, "export", "news", "--out", out)
    with app.app_context():
        before = counts()
    result = run(runner, "import", "commentsvc", out, "--site", "news")
    assert "comments imported: 0" in result.output
    assert "skipped: 2 already here (posted on this site)" in result.output
    assert "skipped: 19 already imported" in result.output
    with app.app_context():
        assert counts() == before


def test_an_export_with_odd_values_imports_what_it_can_and_never_crashes(
    app, runner, site, tmp_path
):
    # Each of these records stopped the import with a traceback (a list where a
    # string goes, a number for a date, NUL bytes on PostgreSQL, a lone
    # surrogate, a date out of range, NaN in signals).
    thread = {"type": "thread", "key": "/a", "url": f"{ORIGIN}/a"}
    good = {
        "type": "comment",
        "thread": "/a",
        "author": "Ann",
        "body": "Fine.",
        "status": "approved",
        "created_at": "2026-01-01T00:00:00Z",
    }
    odd = [
        {"thread": ["/a"]},
        {"title": ["x"], "page_title": 5},
        {"email": 5, "ip": 5, "user_agent": [1], "parent_key": 5},
        {"moderated_at": [1], "edited_at": 5},
        {"created_at": 5},
        {"created_at": "9999-12-31T23:59:59-23:00"},
        {"body": "nul\x00 byte", "author": "A\x00nn"},
        {"body": "lone \ud800 surrogate"},
        {"signals": {"score": float("nan"), "note": "nul\x00"}},
    ]
    records = [{**thread, "key": "/nul\x00"}, {**thread, "title": 7}]
    records += [{**good, "id": n, **values} for n, values in enumerate(odd, 1)]
    records.append({**good, "id": 99})
    path = tmp_path / "odd.json"
    header = {"format": "commentsvc-export", "version": 1, "site": "news"}
    path.write_text(json.dumps({**header, "records": records}))

    result = runner.invoke(args=["import", "commentsvc", str(path), "--site", "news"])

    assert result.exit_code == 0, result.output
    assert "skipped: 2 comment without a readable date" in result.output
    assert "skipped: 1 comment of a thread the file does not list" in result.output
    with app.app_context():
        stored = comments()
        assert len(stored) == 7 and stored["commentsvc:99"].body == "Fine."
        assert stored["commentsvc:7"].body == "nul byte"
        assert stored["commentsvc:7"].author == "Ann"
        assert "\x00" not in json.dumps(stored["commentsvc:9"].signals)
        assert set(threads()) == {"/a", "/nul"}


def test_an_export_it_cannot_write_or_of_an_odd_site_is_one_line(
    app, runner, site, tmp_path
):
    # --out naming a directory or a missing one stopped with a traceback, as
    # did a NUL byte in the site's name on PostgreSQL.
    tries = [
        (["export", "news", "--out", str(tmp_path)], "error: cannot write"),
        (["export", "news", "--out", str(tmp_path / "no" / "x.json")], "error: cannot"),
        (["export", "ne\x00ws"], "error: there is no site"),
        (["import", "commentsvc", str(tmp_path), "--site", "ne\x00ws"], "Error:"),
    ]
    for args, said in tries:
        result = runner.invoke(args=args)
        assert result.exit_code in (1, 2), (args, result.exception)
        assert said in result.output, result.output

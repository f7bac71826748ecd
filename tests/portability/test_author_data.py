"""A reader's data request: `comments export-author EMAIL` and `comments
erase-author EMAIL` (replies keep their place; audited; listings invalidated;
webhook events already written lose the author's data)."""

import json

import sqlalchemy as sa
from factories import ORIGIN, get_site, make_site

from commentsvc.comments.service import ClientInfo, Submission, submit_comment
from commentsvc.extensions import db
from commentsvc.models import (
    Comment,
    CommentStatus,
    MailMessage,
    MailRecipient,
    MailSubscription,
    ModerationEvent,
    Role,
    WebhookEndpoint,
    WebhookEvent,
)
from commentsvc.moderation.accounts import create_moderator
from commentsvc.moderation.audit_trail import TrailFilters, trail_page
from commentsvc.portability.erasure import REASON

from .conftest import DATA, comments, run

HELLO = "/2015/03/hello-world/"


def _setup(app, runner):
    """Ann's comments on two sites (one with another case of her address), a
    comment posted here with a webhook event, and replies under hers."""
    run(runner, "import", "wordpress", DATA / "wordpress.xml", "--site", "news")
    with app.app_context():
        make_site("other", "Other", allowed_origins=[ORIGIN])
    run(runner, "import", "disqus", DATA / "disqus.xml", "--site", "other")
    with app.app_context():
        site = get_site("news")
        db.session.add(
            WebhookEndpoint(
                site_id=site.id, url="https://hooks.example/in", events=[], secret="s"
            )
        )
        db.session.commit()
        stored = submit_comment(
            site,
            Submission(
                thread="/posted",
                url=f"{ORIGIN}/posted",
                author="Ann Reader",
                body="Posted here, with a webhook event.",
                email="ann@example.org",
            ),
            ClientInfo(ip="192.0.2.50", user_agent="Mozilla/5.0 Test"),
        )
        return stored.id


def test_export_author_lists_every_comment_of_the_address(app, runner, site, tmp_path):
    _setup(app, runner)
    out = tmp_path / "ann.json"
    result = run(runner, "comments", "export-author", "ANN@example.org", "--out", out)
    assert "exported 5 comments" in result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["format"] == "commentsvc-author-export"
    assert document["version"] == 1
    found = {(c["site"], c["body"][:20]) for c in document["comments"]}
    assert {site for site, _ in found} == {"news", "other"}
    assert len(document["comments"]) == 5
    first = document["comments"][0]
    assert set(first) >= {"site", "thread", "url", "id", "author", "email", "ip"}
    assert first["ip"] == "192.0.2.11"

    to_stdout = runner.invoke(args=["comments", "export-author", "nobody@example.org"])
    assert json.loads(to_stdout.stdout)["comments"] == []


def test_erase_author_asks_first(app, runner, site):
    _setup(app, runner)
    result = runner.invoke(
        args=["comments", "erase-author", "ann@example.org"], input="n\n"
    )
    assert result.exit_code == 1
    assert "Erase 5 comments of ann@example.org on 2 sites?" in result.output
    with app.app_context():
        assert comments()["wordpress:11"].author == "Ann Reader"


def test_erase_author_keeps_replies_in_place(app, runner, site, client):
    posted = _setup(app, runner)
    with app.app_context():
        before = {
            k: (c.id, c.parent_id, c.root_id, c.status) for k, c in comments().items()
        }
    result = run(runner, "comments", "erase-author", "ann@example.org", input="y\n")
    assert "erased 5 comments of ann@example.org" in result.output
    assert "1 webhook events scrubbed" in result.output

    with app.app_context():
        erased = list(
            db.session.scalars(sa.select(Comment).where(Comment.author == "[deleted]"))
        )
        assert len(erased) == 5
        for comment in erased:
            assert comment.body == "[deleted]"
            assert comment.body_html == "<p>[deleted]</p>"
            assert comment.email is None
            assert comment.ip is None
            assert comment.user_agent is None
        after = {
            k: (c.id, c.parent_id, c.root_id, c.status) for k, c in comments().items()
        }
        # Nothing moved; only what waited for a moderator left the queue
        # (approving "[deleted]" would publish nothing of anyone).
        gone = {c.id for c in erased}
        left_the_queue = {
            k
            for k, was in before.items()
            if was[0] in gone and was[3] == CommentStatus.PENDING
        }
        assert after == {
            k: (*was[:3], CommentStatus.DELETED if k in left_the_queue else was[3])
            for k, was in before.items()
        }
        ann = comments()["wordpress:11"]
        assert ann.status == CommentStatus.APPROVED

        events = list(
            db.session.scalars(
                sa.select(ModerationEvent).order_by(ModerationEvent.comment_id)
            )
        )
        assert sorted(e.comment_id for e in events) == sorted(c.id for c in erased)
        for event in events:
            assert event.reason == REASON
            assert event.moderator_id is None
            assert event.to_status in (event.from_status, CommentStatus.DELETED)

        payload = db.session.scalars(sa.select(WebhookEvent.payload)).one()["data"]
        assert payload["comment"]["id"] == posted
        assert payload["comment"]["email"] is None
        assert payload["comment"]["author"] == "[deleted]"
        assert payload["comment"]["body"] == "[deleted]"

    listing = client.get(f"/api/v1/sites/news/comments?thread={HELLO}").get_json()
    by_id = {item["id"]: item for item in listing["comments"]}
    assert by_id[ann.id]["author"] == "[deleted]"
    assert by_id[ann.id]["html"] == "<p>[deleted]</p>"
    bea = before["wordpress:12"][0]
    assert by_id[bea]["parent_id"] == ann.id  # the reply is still under it

    again = run(runner, "comments", "erase-author", "ann@example.org", "--yes")
    assert "no comments by ann@example.org" in again.output


def test_the_audit_page_shows_the_erasure(app, runner, site):
    _setup(app, runner)
    run(runner, "comments", "erase-author", "ann@example.org", "--yes")
    with app.app_context():
        admin = create_moderator("boss", "a long enough password 1", role=Role.ADMIN)
        page = trail_page(admin, TrailFilters(kind="decisions"))
        events = [item.record for item in page.items]
        assert len(events) == 5
        assert {e.reason for e in events} == {REASON}
        assert {e.comment.author for e in events} == {"[deleted]"}


def test_a_data_request_covers_the_readers_reply_notifications(make_app, tmp_path):
    """The address's "notify me of replies" subscriptions are in its export and
    forgotten with its erasure, unsent mail to it included."""
    app = make_app(
        MAIL_URL="console:",
        MAIL_FROM="News <comments@news.example>",
        PUBLIC_URL="https://comments.news.example",
    )
    runner = app.test_cli_runner()
    with app.app_context():
        site = make_site()
        submit_comment(
            site,
            Submission(
                thread="/followed",
                url=f"{ORIGIN}/followed",
                author="Ann Reader",
                body="Tell me when someone answers.",
                email="Ann@Example.org",
                notify=True,
            ),
            ClientInfo(ip="192.0.2.60"),
        )
        assert db.session.scalar(sa.select(sa.func.count(MailMessage.id))) >= 1

    out = tmp_path / "ann.json"
    run(runner, "comments", "export-author", "ann@example.org", "--out", out)
    mail = json.loads(out.read_text(encoding="utf-8"))["mail"]
    assert [(m["site"], m["threads"], m["confirmed_at"]) for m in mail] == [
        ("news", ["/followed"], None)
    ]

    result = run(runner, "comments", "erase-author", "ANN@example.org", "--yes")
    assert "forgotten by the mail of 1 sites" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MailRecipient.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(MailSubscription.id))) == 0
        reader_mail = sa.select(sa.func.count(MailMessage.id)).where(
            MailMessage.recipient_id.is_not(None)
        )
        assert db.session.scalar(reader_mail) == 0


def test_an_address_that_is_empty_or_holds_a_nul_byte_is_one_line(app, runner, site):
    # A NUL byte stopped both commands with a traceback on PostgreSQL; an
    # empty address answered "no comments by" as if one had been looked for.
    for email in ("", "  ", "ann\x00@example.org"):
        for args in (["erase-author", email, "--yes"], ["export-author", email]):
            result = runner.invoke(args=["comments", *args])
            assert result.exit_code == 1, (args, result.exception)
            assert result.output.startswith("error: ") and "{" not in result.output

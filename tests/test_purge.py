"""`flask --app wsgi comments purge-spam --older-than 30d`."""

from datetime import timedelta

import sqlalchemy as sa
from factories import make_comment, make_site

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, ModerationEvent, utcnow


def _age(comment_id, days):
    db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment_id)
        .values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def test_purge_spam_removes_only_old_spam(app, runner):
    with app.app_context():
        site = make_site()
        old_spam = make_comment(site, status=CommentStatus.SPAM)
        new_spam = make_comment(site, status=CommentStatus.SPAM)
        old_ham = make_comment(site, status=CommentStatus.APPROVED)
        reply = make_comment(site, status=CommentStatus.PENDING)
        reply.parent_id = old_spam.id
        db.session.add(
            ModerationEvent(
                site_id=site.id,
                comment_id=old_spam.id,
                from_status=CommentStatus.PENDING,
                to_status=CommentStatus.SPAM,
            )
        )
        db.session.commit()
        for comment in (old_spam, old_ham):
            _age(comment.id, 31)
        _age(new_spam.id, 29)
        ids = (old_spam.id, new_spam.id, old_ham.id, reply.id)

    result = runner.invoke(args=["comments", "purge-spam", "--older-than", "30d"])
    assert result.exit_code == 0, result.output
    assert "purged 1 spam comment" in result.output

    with app.app_context():
        remaining = set(db.session.scalars(sa.select(Comment.id)))
        assert remaining == set(ids) - {ids[0]}
        assert db.session.get(Comment, ids[3]).parent_id is None
        assert db.session.scalar(sa.select(sa.func.count(ModerationEvent.id))) == 0

    again = runner.invoke(args=["comments", "purge-spam", "--older-than", "30d"])
    assert "purged 0 spam comments" in again.output


def test_purge_spam_refuses_a_bad_duration(app, runner):
    result = runner.invoke(args=["comments", "purge-spam", "--older-than", "a month"])
    assert result.exit_code == 2
    assert "not a duration" in result.output


def test_purge_ips_erases_old_addresses_and_keeps_the_comments(app, runner):
    with app.app_context():
        site = make_site()
        old = make_comment(site, status=CommentStatus.APPROVED)
        recent = make_comment(site, status=CommentStatus.PENDING)
        _age(old.id, 91)
        _age(recent.id, 89)
        ids = (old.id, recent.id)

    result = runner.invoke(args=["comments", "purge-ips"])
    assert result.exit_code == 0, result.output
    assert "erased the IP address of 1 comment" in result.output

    with app.app_context():
        erased = db.session.get(Comment, ids[0])
        kept = db.session.get(Comment, ids[1])
        assert erased.ip is None and erased.user_agent is None
        assert erased.status == CommentStatus.APPROVED
        assert kept.ip == "192.0.2.1"

    result = runner.invoke(args=["comments", "purge-ips", "--older-than", "1d"])
    assert "erased the IP address of 1 comment" in result.output


def test_retention_period_comes_from_configuration(make_app):
    app = make_app(IP_RETENTION_DAYS=10)
    with app.app_context():
        site = make_site()
        comment = make_comment(site)
        _age(comment.id, 11)
    result = app.test_cli_runner().invoke(args=["comments", "purge-ips"])
    assert "erased the IP address of 1 comment" in result.output


def test_replies_under_purged_spam_stay_listed_once(app, runner, client):
    with app.app_context():
        site = make_site()
        top = make_comment(site, body="Later found to be spam")
        reply = make_comment(site, body="A real reply", parent_id=top.id)
        deeper = make_comment(site, body="And an answer", parent_id=reply.id)
        top.status = CommentStatus.SPAM
        db.session.commit()
        _age(top.id, 31)
        ids = (reply.id, deeper.id)

    result = runner.invoke(args=["comments", "purge-spam", "--older-than", "30d"])
    assert result.exit_code == 0, result.output

    listing = client.get("/api/v1/sites/news/comments?thread=/article").get_json()
    assert [c["id"] for c in listing["comments"]] == list(ids)
    with app.app_context():
        roots = db.session.scalars(
            sa.select(Comment.root_id).where(Comment.id.in_(ids))
        )
        assert set(roots) == {None}

"""`comments erase-author` reaches every row that holds the address: bans, ban
reasons, the audit trail, decisions' reasons, report explanations, stored
webhook events and mail; an e-mail ban keeps working by a keyed hash."""

import sqlalchemy as sa
from factories import ORIGIN, get_site

from commentsvc import accounts
from commentsvc.comments.bans import ban_from_comment
from commentsvc.comments.moderation import Target, moderate
from commentsvc.comments.reports import ReaderReport, file_report
from commentsvc.comments.service import ClientInfo, Submission, submit_comment
from commentsvc.extensions import db
from commentsvc.models import (
    Ban,
    BanKind,
    Comment,
    CommentStatus,
    Role,
    SignInLink,
    WebhookEndpoint,
    utcnow,
)
from commentsvc.moderation.accounts import create_moderator

from .conftest import run

ANN = "Ann.Reader@Example.org"


def _post(site, author, email, ip, body="A comment"):
    return submit_comment(
        site,
        Submission(
            thread="/page", url=f"{ORIGIN}/page", author=author, body=body, email=email
        ),
        ClientInfo(ip=ip, user_agent="Mozilla/5.0 Test"),
    ).id


def _setup(app):
    """Ann's comment banned by address with a reason naming her; Bob's comment
    reported and decided with her address in the explanation and the reason."""
    with app.app_context():
        site = get_site("news")
        db.session.add(
            WebhookEndpoint(
                site_id=site.id, url="https://hooks.example/in", events=[], secret="s"
            )
        )
        db.session.commit()
        boss = create_moderator("boss", "a long enough password 1", role=Role.ADMIN)
        ann = _post(site, "Ann", ANN.lower(), "192.0.2.1")
        bob = _post(site, "Bob", "bob@example.org", "192.0.2.2")
        for comment_id in (ann, bob):
            comment = db.session.get(Comment, comment_id)
            if comment.status != CommentStatus.APPROVED:
                moderate(
                    boss, [Target(comment_id, comment.version)], CommentStatus.APPROVED
                )
        ban_from_comment(
            boss,
            db.session.get(Comment, ann),
            BanKind.EMAIL,
            reason=f"spam from {ANN.upper()}, again",
        )
        file_report(
            get_site("news"),
            bob,
            ReaderReport(
                reason="abuse",
                explanation=f"Bob posts the address {ANN} of someone else",
            ),
            "198.51.100.7",
        )
        comment = db.session.get(Comment, bob)
        moderate(
            boss,
            [Target(bob, comment.version)],
            CommentStatus.REJECTED,
            reason=f"doxxing {ANN.lower()}",
        )
        # Ann also signed in by e-mail: an account, a session, a used link.
        account = accounts.find_or_create(
            site.id, "email", ANN.lower(), "Ann", ANN.lower()
        )
        accounts.sessions.issue(account.id)
        db.session.add(
            SignInLink(
                site_id=site.id,
                email=ANN.lower(),
                token_hash="0" * 64,
                return_url=f"{ORIGIN}/page",
                expires_at=utcnow(),
            )
        )
        db.session.commit()
        return ann, bob


def _rows_holding(address: str) -> list[str]:
    """Every row of every table whose text holds *address* (any case)."""
    found = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                if address.lower() in str(tuple(row)).lower():
                    found.append(f"{table.name}: {tuple(row)}")
    return found


def test_erasure_leaves_the_address_nowhere(app, runner, site):
    _setup(app)
    with app.app_context():
        before = {line.split(":")[0] for line in _rows_holding(ANN)}
        # The address is everywhere the issue found it.
        assert before >= {
            "comments",
            "bans",
            "audit_entries",
            "moderation_events",
            "comment_reports",
            "webhook_events",
            "accounts",
            "sign_in_links",
        }
    result = run(runner, "comments", "erase-author", ANN, "--yes")
    assert "erased 1 comment" in result.output
    with app.app_context():
        assert _rows_holding(ANN) == []
        assert _rows_holding("ann.reader") == []


def test_a_ban_by_address_keeps_working_after_erasure(app, runner, site):
    ann, _ = _setup(app)
    run(runner, "comments", "erase-author", ANN, "--yes")
    with app.app_context():
        ban = db.session.scalars(sa.select(Ban)).one()
        assert ban.kind == BanKind.EMAIL and "@" not in ban.value
        assert ban.reason == "spam from [erased], again"
        site = get_site("news")
        again = db.session.get(Comment, _post(site, "Ann", ANN, "203.0.113.9"))
        assert again.status == CommentStatus.SPAM
        other = db.session.get(
            Comment, _post(site, "Cy", "cy@example.org", "203.0.113.10")
        )
        assert other.status != CommentStatus.SPAM


def test_text_around_the_address_is_kept(app, runner, site):
    _, bob = _setup(app)
    run(runner, "comments", "erase-author", ANN, "--yes")
    with app.app_context():
        found = db.session.execute(
            sa.text("SELECT explanation FROM comment_reports")
        ).scalar_one()
        assert found == "Bob posts the address [erased] of someone else"
        bob_comment = db.session.get(Comment, bob)
        assert bob_comment.author == "Bob"  # Bob's own data is his

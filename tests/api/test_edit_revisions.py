"""Published means a moderator approved these words: an author's edit of a
published comment waits as a revision until a moderator approves it; readers
keep the approved text meanwhile (the listing, its cache)."""

import pytest
import sqlalchemy as sa
from factories import ORIGIN, comment_payload, make_site

from commentsvc.comments import revisions
from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.models import (
    Ban,
    BanKind,
    Comment,
    CommentRevision,
    CommentStatus,
    ModerationEvent,
    Moderator,
    RevisionStatus,
    WebhookEvent,
)
from commentsvc.moderation.accounts import create_moderator

API = "/api/v1/sites/news/comments"
LISTING = API + "?thread=/article"
LOVELY = "What a lovely idea"
# What the probe of issue 25 published by editing an approved comment.
HOSTILE_EDITS = [
    "You are a worthless idiot and everyone here knows it",
    "She lives at 12 Elm Street, Springfield, call her on 555-0142 any time",
    "The mayor took bribes from the builder, proof: https://proof.example/x",
    "Your session expired, log in again at https://news-example.login.example/",
]


def _app_site(app, **settings):
    with app.app_context():
        make_site(**settings)
        create_moderator("mod", "correct horse battery", site_slugs=["news"])


@pytest.fixture
def site(app):
    _app_site(app)


def _approved(app, client, body=LOVELY, **fields):
    """Post a comment and have a moderator approve it (the real decision)."""
    response = client.post(API, json=comment_payload(body=body, **fields))
    assert response.status_code == 202
    posted = response.json
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        moderator = db.session.scalar(sa.select(Moderator).limit(1))
        decision = moderate(
            moderator,
            [Target(comment.id, comment.version)],
            CommentStatus.APPROVED,
        )
        assert decision.changed == [comment.id]
    return posted


def _edit(client, posted, body):
    return client.patch(
        f"{API}/{posted['id']}",
        json={"body": body, "edit_token": posted["edit_token"]},
        headers={"Origin": ORIGIN},
    )


def _shown(client) -> list[str]:
    return [c["html"] for c in client.get(LISTING).json["comments"]]


def _revision(app, comment_id) -> CommentRevision:
    with app.app_context():
        (revision,) = db.session.scalars(
            sa.select(CommentRevision).where(CommentRevision.comment_id == comment_id)
        ).all()
        return revision


def _decide(app, revision, approve: bool, version=None):
    with app.app_context():
        moderator = db.session.scalar(sa.select(Moderator).limit(1))
        return revisions.decide(
            moderator, revision.id, version or revision.version, approve
        )


@pytest.mark.parametrize("hostile", HOSTILE_EDITS)
def test_an_edit_of_an_approved_comment_is_not_published_until_approved(
    app, client, site, hostile
):
    posted = _approved(app, client)
    assert _shown(client) == [f"<p>{LOVELY}</p>"]

    response = _edit(client, posted, hostile)

    assert response.status_code == 200
    assert response.json["edit_pending"] is True
    assert response.json["status"] == "approved"
    assert response.json["html"] == f"<p>{LOVELY}</p>"
    assert "awaits moderation" in response.json["message"]
    assert _shown(client) == [f"<p>{LOVELY}</p>"]
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert (comment.status, comment.body) == (CommentStatus.APPROVED, LOVELY)
        assert comment.moderated_by.username == "mod"
        # Readers were told nothing: no webhook event for the edit.
        types = db.session.scalars(sa.select(WebhookEvent.type)).all()
        assert "comment.edited" not in types
        reasons = db.session.scalars(
            sa.select(ModerationEvent.reason).where(
                ModerationEvent.comment_id == comment.id
            )
        ).all()
        assert reasons[-1] == revisions.AWAITING
    revision = _revision(app, posted["id"])
    assert (revision.status, revision.body) == (RevisionStatus.PENDING, hostile)


def test_approving_the_revision_publishes_it_through_a_decision(make_app):
    # A real read cache: the listing cached before must be dropped.
    app = make_app(READ_CACHE_TTL=60)
    client = app.test_client()
    _app_site(app)
    posted = _approved(app, client)
    assert _shown(client) == [f"<p>{LOVELY}</p>"]
    _edit(client, posted, "What a lovely idea, and a cheap one")
    assert _shown(client) == [f"<p>{LOVELY}</p>"]

    decision = _decide(app, _revision(app, posted["id"]), approve=True)

    assert decision.approved
    assert _shown(client) == ["<p>What a lovely idea, and a cheap one</p>"]
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert comment.status == CommentStatus.APPROVED
        assert comment.edited_at is not None
        # What the learning filter learns: the words the moderator approved.
        assert comment.decided_body == "What a lovely idea, and a cheap one"
        assert comment.decided_status == CommentStatus.APPROVED
        last = db.session.scalars(
            sa.select(ModerationEvent)
            .where(ModerationEvent.comment_id == comment.id)
            .order_by(ModerationEvent.id.desc())
        ).first()
        assert (last.reason, last.moderator.username) == (revisions.APPROVED, "mod")
        types = db.session.scalars(sa.select(WebhookEvent.type)).all()
        assert types[-1] == "comment.edited"
    assert _revision(app, posted["id"]).status == RevisionStatus.APPROVED


def test_rejecting_the_revision_keeps_the_approved_text(app, client, site):
    posted = _approved(app, client)
    _edit(client, posted, HOSTILE_EDITS[0])

    _decide(app, _revision(app, posted["id"]), approve=False)

    assert _shown(client) == [f"<p>{LOVELY}</p>"]
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert (comment.body, comment.decided_body) == (LOVELY, LOVELY)
        assert comment.edited_at is None
    assert _revision(app, posted["id"]).status == RevisionStatus.REJECTED


def test_a_second_edit_replaces_the_pending_one_and_the_first_cannot_be_approved(
    app, client, site
):
    posted = _approved(app, client)
    _edit(client, posted, "A harmless fix")
    seen = _revision(app, posted["id"])  # what a moderator has on screen
    _edit(client, posted, HOSTILE_EDITS[1])

    replaced = _revision(app, posted["id"])  # still one row
    assert replaced.body == HOSTILE_EDITS[1] and replaced.version == seen.version + 1
    with pytest.raises(revisions.RevisionConflict):
        _decide(app, seen, approve=True, version=seen.version)
    assert _shown(client) == [f"<p>{LOVELY}</p>"]
    assert _revision(app, posted["id"]).status == RevisionStatus.PENDING


def test_a_trusted_authors_clean_edit_is_published_and_a_held_one_waits(app, client):
    _app_site(
        app,
        max_links=1,
        moderation_policy="trust_approved_authors",
        trusted_author_min_approved=1,
    )
    posted = _approved(app, client)

    clean = _edit(client, posted, "What a lovely idea indeed")
    assert clean.json["edit_pending"] is False
    assert _shown(client) == ["<p>What a lovely idea indeed</p>"]

    held = _edit(client, posted, "See https://a.example and https://b.example")
    assert held.json["edit_pending"] is True
    assert _shown(client) == ["<p>What a lovely idea indeed</p>"]
    assert _revision(app, posted["id"]).status == RevisionStatus.PENDING

    # A clean edit after it is published: the waiting one is moot, gone (never
    # to be approved over the newer words).
    again = _edit(client, posted, "What a lovely idea, truly")
    assert again.json["edit_pending"] is False
    assert _shown(client) == ["<p>What a lovely idea, truly</p>"]
    with app.app_context():
        assert revisions.pending_for([posted["id"]]) == {}


def test_an_untrusted_authors_edit_waits_even_on_a_trusting_site(app, client):
    _app_site(
        app, moderation_policy="trust_approved_authors", trusted_author_min_approved=3
    )
    posted = _approved(app, client)

    response = _edit(client, posted, "What a lovely idea indeed")

    assert response.json["edit_pending"] is True
    assert _shown(client) == [f"<p>{LOVELY}</p>"]


def test_an_edit_from_a_banned_author_is_spam(app, client, site):
    posted = _approved(app, client)
    with app.app_context():
        db.session.add(
            Ban(
                site_id=db.session.get(Comment, posted["id"]).site_id,
                kind=BanKind.EMAIL,
                value="ann@example.org",
            )
        )
        db.session.commit()

    response = _edit(client, posted, "What a lovely idea, still")

    assert response.json["status"] == "pending" and response.json["html"] is None
    assert _shown(client) == []
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert comment.status == CommentStatus.SPAM
        assert comment.signals["edit"]["banned"]["kind"] == "email"


def test_an_edit_the_learning_filter_calls_spam_is_spam(app, client, site):
    posted = _approved(app, client)
    with app.app_context():
        # From now on the filter stores everything as spam.
        comment = db.session.get(Comment, posted["id"])
        comment.site.spam_threshold = 0.0001
        db.session.commit()

    _edit(client, posted, "What a lovely idea, still")

    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert comment.status == CommentStatus.SPAM
        assert comment.signals["edit"]["spam_filter"]["verdict"] == "spam"
        # The moderator approved the first words: those stay its label.
        assert (comment.decided_status, comment.decided_body) == (
            CommentStatus.APPROVED,
            LOVELY,
        )


def test_the_diff_marks_changed_words_and_escapes_them():
    old, new = revisions.word_diff(
        "What a lovely idea", "What a <b>terrible</b> idea & more"
    )
    assert str(old) == "What a <del>lovely</del> idea"
    assert str(new) == (
        "What a <ins>&lt;b&gt;terrible&lt;/b&gt;</ins> idea<ins> &amp; more</ins>"
    )


def test_a_trusted_authors_edit_of_a_reported_comment_waits(app, client):
    _app_site(
        app,
        report_threshold=3,
        moderation_policy="trust_approved_authors",
        trusted_author_min_approved=1,
    )
    posted = _approved(app, client)
    reported = client.post(
        f"{API}/{posted['id']}/reports",
        json={"reason": "abuse"},
        headers={"Origin": ORIGIN},
    )
    assert reported.status_code == 202

    response = _edit(client, posted, "What a lovely idea, reworded")

    # The report is about the published words: a moderator sees the new ones.
    assert response.json["edit_pending"] is True
    assert _shown(client) == [f"<p>{LOVELY}</p>"]


def test_an_edit_of_a_comment_taken_down_meanwhile_cannot_republish_it(
    app, client, site
):
    posted = _approved(app, client)
    _edit(client, posted, "What a lovely idea, reworded")
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        moderator = db.session.scalar(sa.select(Moderator).limit(1))
        moderate(
            moderator, [Target(comment.id, comment.version)], CommentStatus.REJECTED
        )

    with pytest.raises(revisions.RevisionConflict, match="is rejected now"):
        _decide(app, _revision(app, posted["id"]), approve=True)

    assert _shown(client) == []
    with app.app_context():
        comment = db.session.get(Comment, posted["id"])
        assert (comment.status, comment.body) == (CommentStatus.REJECTED, LOVELY)


def test_erasing_an_author_erases_their_waiting_edit_and_decided_words(
    app, client, site
):
    posted = _approved(app, client)
    _edit(client, posted, HOSTILE_EDITS[1])
    from commentsvc.portability.erasure import erase_author

    with app.app_context():
        erase_author("ann@example.org")
        comment = db.session.get(Comment, posted["id"])
        assert comment.decided_body is None
        assert db.session.scalars(sa.select(CommentRevision)).all() == []


def test_reports_may_hide_a_trusted_authors_edit_no_moderator_read(app, client):
    # The approval covered the words a moderator read; a trusted author's edit
    # published at once is no moderator's, so readers' reports may hide it at
    # the site's threshold as they may any comment published by trust.
    _app_site(
        app,
        moderation_policy="trust_approved_authors",
        trusted_author_min_approved=1,
        report_threshold=3,
    )
    posted = _approved(app, client)
    assert (
        _edit(client, posted, "What a lovely idea indeed").json["edit_pending"] is False
    )
    for n in range(3):
        response = client.post(
            f"{API}/{posted['id']}/reports",
            json={"reason": "abuse", "token": f"reader-{n}"},
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
        )
        assert response.status_code == 202
    assert _shown(client) == []
    with app.app_context():
        assert db.session.get(Comment, posted["id"]).status == CommentStatus.PENDING

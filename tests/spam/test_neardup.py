"""Near-duplicates end to end through the API: the same message with small
changes is spam when a moderator already decided one like it as spam, or when
it runs on three threads within a day; never because it looks like an approved
comment; short texts are left alone; other sites count only when both opted
in; the signatures go with the comments."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from crawl import csrf_from
from factories import ORIGIN, comment_payload

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentBand, utcnow
from commentsvc.spam import minhash

from .conftest import PENDING, SPAM, accepted, form_token, post, stored

# One campaign's message and the small changes it travels with (estimated
# Jaccard similarity of each pair between 0.6 and 1: asserted below).
CAMPAIGN = [
    "Earn 500 dollars a day from home with our proven method, message me on "
    "WhatsApp at 0123 456 789 to start today!",
    "Earn 800 dollars a day from home with our proven method, message me on "
    "WhatsApp at 0987 654 321 to start now!",
    "Earn 300 dollars a day from home with this proven method: message me on "
    "WhatsApp at 0555 123 456 and start today!!",
]
# Two readers who liked the same story, nearly in the same words.
PRAISE = [
    "Thank you for this careful reporting on the flood defences, it explained "
    "more than the council ever did.",
    "Thanks for this careful reporting on the flood defences, it explained "
    "more than the council ever has.",
    "Thank you for this careful reporting on the flood defences; it explained "
    "more than the council ever did!",
    "Thank you for this careful reporting about the flood defences, it "
    "explained more than the council ever did.",
]


def test_the_examples_are_near_duplicates():
    for texts in (CAMPAIGN, PRAISE):
        signatures = [minhash.signature(text) for text in texts]
        for n, one in enumerate(signatures):
            for other in signatures[n + 1 :]:
                assert 0.6 <= minhash.similarity(one, other) < 1


def _reader(n: int) -> dict:
    """A different reader each time: neither email nor IP repeats."""
    return {
        "ip": f"198.51.100.{20 + n}",
        "email": f"reader{n}@example.org",
        "author": f"Reader {n}",
    }


def _on(thread: str) -> dict:
    return {"thread": thread, "url": f"{ORIGIN}{thread}"}


def _decide(client, comment_id: int, action: str) -> None:
    """A moderator's decision through the queue's own form."""
    app = client.application
    with app.app_context():
        version = db.session.get(Comment, comment_id).version
    page = client.get("/moderation/queue").get_data(as_text=True)
    response = client.post(
        "/moderation/decide",
        data={
            "csrf_token": csrf_from(page),
            "bulk": action,
            "selected": [f"{comment_id}:{version}"],
            "next": "/moderation/queue",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _bands(app, comment_id=None) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(CommentBand)
        if comment_id is not None:
            query = query.where(CommentBand.comment_id == comment_id)
        return db.session.scalar(query)


def _signature(app, comment_id):
    with app.app_context():
        # Band 0's row carries the signature.
        return db.session.get(CommentBand, (comment_id, 0))


def test_a_campaign_with_small_edits_on_three_threads_is_spam(app, client, news):
    news()
    first = stored(
        app, accepted(post(client, body=CAMPAIGN[0], **_reader(1), **_on("/a")))
    )
    second = stored(
        app, accepted(post(client, body=CAMPAIGN[1], **_reader(2), **_on("/b")))
    )
    third = stored(
        app, accepted(post(client, body=CAMPAIGN[2], **_reader(3), **_on("/c")))
    )
    assert (first.status, second.status) == (PENDING, PENDING)
    assert third.status == SPAM
    signal = third.signals["near_duplicate_campaign"]
    assert signal["threads"] == 3 and 0.6 <= signal["similarity"] < 1
    # Every stored comment has its signature and one row per band.
    for comment in (first, second, third):
        assert _bands(app, comment.id) == minhash.BANDS
        assert _signature(app, comment.id) is not None


def test_a_campaign_on_one_thread_or_older_than_a_day_is_not(app, client, news):
    news()
    for n, body in enumerate(CAMPAIGN):
        comment = stored(app, accepted(post(client, body=body, **_reader(n))))
        assert comment.status == PENDING, comment.signals
    with app.app_context():
        db.session.execute(
            sa.update(Comment).values(created_at=utcnow() - timedelta(hours=25))
        )
        db.session.commit()
    # Three threads with the old ones, two within the day.
    for n, body in enumerate(CAMPAIGN[:2]):
        comment = stored(
            app,
            accepted(post(client, body=body, **_reader(10 + n), **_on(f"/t{n}"))),
        )
        assert comment.status == PENDING, comment.signals


def test_a_near_duplicate_of_decided_spam_is_spam(app, client, news, admin_client):
    news()
    original = accepted(post(client, body=CAMPAIGN[0], **_reader(1)))
    _decide(admin_client, original, "spam")
    again = stored(app, accepted(post(client, body=CAMPAIGN[1], **_reader(2))))
    assert again.status == SPAM
    signal = again.signals["near_duplicate_of_spam"]
    assert signal["comment"] == original and 0.5 <= signal["similarity"] < 1


def test_an_undecided_spam_status_alone_is_no_decision(app, client, news):
    """Spam by a rule (here the honeypot) is no moderator's decision."""
    news()
    accepted(post(client, body=CAMPAIGN[0], website="https://x.example", **_reader(1)))
    again = stored(app, accepted(post(client, body=CAMPAIGN[1], **_reader(2))))
    assert again.status == PENDING, again.signals


def test_near_duplicates_of_an_approved_comment_are_not_spam(
    app, client, news, admin_client
):
    news()
    original = accepted(post(client, body=PRAISE[0], **_reader(1), **_on("/a")))
    _decide(admin_client, original, "approve")
    # Three more threads: a campaign, but for the words a moderator published.
    for n, body in enumerate(PRAISE[1:], start=2):
        comment = stored(
            app, accepted(post(client, body=body, **_reader(n), **_on(f"/t{n}")))
        )
        assert comment.status == PENDING, comment.signals


def test_comments_published_at_once_do_not_count(app, client, news, admin_client):
    """A trusted author's comments are published without a decision: they
    count toward no campaign (published words are readers' words)."""
    news(moderation_policy="trust_approved_authors")
    trusted = _reader(1)
    first = accepted(post(client, body="An earlier comment of mine.", **trusted))
    _decide(admin_client, first, "approve")
    for n, body in enumerate(PRAISE[:2]):
        response = post(client, body=body, **trusted, **_on(f"/t{n}"))
        assert response.json["status"] == "approved", response.json
    comment = stored(
        app, accepted(post(client, body=PRAISE[2], **_reader(2), **_on("/t9")))
    )
    assert comment.status == PENDING, comment.signals


def test_an_edit_is_signed_again(app, client, news):
    news(edit_window_seconds=600)
    posted = post(client, body=PRAISE[0], **_reader(1)).json
    before = _signature(app, posted["id"]).signature
    response = client.patch(
        f"/api/v1/sites/news/comments/{posted['id']}",
        json={"body": CAMPAIGN[0], "edit_token": posted["edit_token"]},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    after = _signature(app, posted["id"]).signature
    assert after != before
    assert after == minhash.to_bytes(minhash.signature(CAMPAIGN[0]))
    assert _bands(app, posted["id"]) == minhash.BANDS


def test_short_texts_are_left_alone(app, client, news, admin_client):
    news()
    original = accepted(post(client, body="Buy cheap pills here", **_reader(1)))
    _decide(admin_client, original, "spam")
    for n, body in enumerate(["Buy cheap pills here!", "buy cheap pills, here"]):
        comment = stored(
            app, accepted(post(client, body=body, **_reader(2 + n), **_on(f"/t{n}")))
        )
        assert comment.status == PENDING, comment.signals
    assert _bands(app) == 0  # too short to sign: nothing stored


def _post_to(client, slug: str, n: int, body: str):
    reader = _reader(n)
    return client.post(
        f"/api/v1/sites/{slug}/comments",
        json=comment_payload(
            body=body,
            email=reader["email"],
            author=reader["author"],
            form_token=form_token(client.application, site=slug),
        ),
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": reader["ip"]},
    )


@pytest.mark.parametrize(
    ("news_shares", "blog_shares", "status"),
    [(True, True, SPAM), (True, False, PENDING), (False, True, PENDING)],
    ids=["both", "only-the-new-comments-site", "only-the-spam-site"],
)
def test_other_sites_count_only_when_both_share(
    app, client, news, admin_client, news_shares, blog_shares, status
):
    news(share_spam_signals=news_shares)
    news("blog", share_spam_signals=blog_shares)
    original = accepted(_post_to(client, "blog", 1, CAMPAIGN[0]))
    _decide(admin_client, original, "spam")
    comment = stored(app, accepted(_post_to(client, "news", 2, CAMPAIGN[1])))
    assert comment.status == status, comment.signals
    if status == SPAM:
        assert comment.signals["near_duplicate_of_spam"]["comment"] == original


def test_purged_spam_takes_its_signature_along(app, client, news, runner):
    news()
    spam_id = accepted(post(client, body=CAMPAIGN[0], website="https://x.example"))
    kept = accepted(post(client, body=PRAISE[0], **_reader(2)))
    assert _bands(app, spam_id) == _bands(app, kept) == minhash.BANDS
    with app.app_context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == spam_id)
            .values(created_at=utcnow() - timedelta(days=31))
        )
        db.session.commit()
    result = runner.invoke(args=["comments", "purge-spam", "--older-than", "30d"])
    assert "purged 1 spam comment" in result.output, result.output
    assert _bands(app, spam_id) == 0 and _signature(app, spam_id) is None
    assert _bands(app, kept) == minhash.BANDS


def test_erasing_an_author_erases_their_signatures(app, client, news, runner):
    news()
    comment_id = accepted(post(client, body=PRAISE[0], **_reader(1)))
    result = runner.invoke(
        args=["comments", "erase-author", "reader1@example.org", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert _bands(app, comment_id) == 0 and _signature(app, comment_id) is None


def test_deleted_comments_count_no_more(app, client, news, admin_client):
    news()
    ids = [
        accepted(post(client, body=body, **_reader(n), **_on(f"/t{n}")))
        for n, body in enumerate(CAMPAIGN[:2])
    ]
    _decide(admin_client, ids[0], "delete")
    comment = stored(
        app, accepted(post(client, body=CAMPAIGN[2], **_reader(3), **_on("/t3")))
    )
    assert comment.status == PENDING, comment.signals


def test_comments_stored_before_are_signed_by_the_command(
    app, client, news, admin_client, runner
):
    news()
    old = accepted(post(client, body=CAMPAIGN[0], **_reader(1)))
    _decide(admin_client, old, "spam")
    with app.app_context():  # as before migration 0014 (or an import)
        db.session.execute(sa.delete(CommentBand))
        db.session.commit()
    missed = stored(app, accepted(post(client, body=CAMPAIGN[1], **_reader(2))))
    assert missed.status == PENDING, missed.signals
    result = runner.invoke(args=["comments", "sign-near-duplicates"])
    assert result.exit_code == 0 and "signed 1 comment" in result.output, result.output
    again = runner.invoke(args=["comments", "sign-near-duplicates"])
    assert "signed 0 comments" in again.output
    caught = stored(app, accepted(post(client, body=CAMPAIGN[2], **_reader(3))))
    assert caught.signals["near_duplicate_of_spam"]["comment"] == old


def test_moderators_read_the_near_duplicate_reasons_as_sentences():
    from commentsvc.comments import reasons

    of_spam = {"near_duplicate_of_spam": {"comment": 35, "similarity": 0.9375}}
    campaign = {"near_duplicate_campaign": {"threads": 3, "similarity": 0.953125}}
    assert reasons.held_reasons(of_spam) == [
        "Nearly the same text as a comment marked as spam, #35 (94 % alike)"
    ]
    assert reasons.held_reasons(campaign) == [
        "Nearly the same text as 3 pages in the last day (95 % alike)"
    ]
    assert reasons.is_warning(of_spam) and reasons.is_warning(campaign)

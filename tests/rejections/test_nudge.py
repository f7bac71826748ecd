"""The reader nudge and the trusted-author hold, through the API: a comment
likely to be rejected is not stored on its first submission when the site
asks readers to reconsider (409 ``may_break_rules``, nothing of the reader's
spent), is stored pending when sent again with ``post_anyway``, and is held
instead of published for a trusted author when the site says so."""

import sqlalchemy as sa
from factories import ORIGIN, get_site, make_comment, make_site
from spam.conftest import accepted, form_token, post, stored

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentRevision, CommentStatus

from .conftest import CIVIL, INSULT, NUDGE

TOKEN_URL = "/api/v1/sites/news/captcha/dev-token"


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Comment.id)))


def test_a_likely_reject_is_scored_and_stored_as_usual_by_default(app, client, site):
    site()
    comment = stored(app, accepted(post(client, body=INSULT)))
    signal = comment.signals["likely_rejected"]
    assert signal["probability"] >= 0.8
    assert signal["model"] == "starter"
    assert "idiots" in [word for word, _ in signal["pushed"]]
    assert "held" not in comment.signals
    civil = stored(app, accepted(post(client, body=CIVIL)))
    assert civil.signals["likely_rejected"]["probability"] < 0.1
    assert civil.signals["likely_rejected"]["pushed"] == []


def test_the_nudge_answers_409_first_and_spends_nothing(make_app):
    app = make_app(CAPTCHA_DEV_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        make_site("news", captcha_provider="dev", reject_nudge=True)
    captcha = client.post(TOKEN_URL, headers={"Origin": ORIGIN}).json["token"]
    token = form_token(app)

    first = post(client, body=INSULT, captcha_token=captcha, form_token=token)

    assert first.status_code == 409
    error = first.json["error"]
    assert error["code"] == "may_break_rules"
    assert error["message"] == NUDGE
    assert "idiots" in error["words"]
    assert first.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert _count(app) == 0

    # The same captcha token and form token: neither was spent by the 409.
    again = post(
        client, body=INSULT, captcha_token=captcha, form_token=token, post_anyway=True
    )
    comment = stored(app, accepted(again))
    assert comment.status == CommentStatus.PENDING
    assert comment.signals["held"]["likely_rejected"] >= 0.8
    assert comment.signals["captcha"]["outcome"] == "ok"
    assert "form_token_reused" not in comment.signals
    assert "too_fast" not in comment.signals


def test_the_nudge_leaves_plain_comments_alone(app, client, site):
    site(reject_nudge=True)
    comment = stored(app, accepted(post(client, body=CIVIL)))
    assert comment.signals.get("held") is None


def test_post_anyway_must_be_true_or_false(app, client, site):
    site(reject_nudge=True)
    response = post(client, body=INSULT, post_anyway="yes")
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"post_anyway": "Must be true or false."}


def test_spam_is_never_nudged(app, client, site):
    # A bot learns nothing: a comment the rules call spam is stored as spam.
    site(reject_nudge=True)
    response = post(client, body=INSULT, website="http://bot.example")
    comment = stored(app, accepted(response))
    assert comment.status == CommentStatus.SPAM


def _trusting(app, site, **settings):
    site(moderation_policy="trust_approved_authors", **settings)
    with app.app_context():
        make_comment(get_site("news"), email="ann@example.org")


def test_a_trusted_authors_likely_reject_is_held_when_the_site_says_so(
    app, client, site
):
    _trusting(app, site, reject_hold_trusted=True)

    held = stored(app, accepted(post(client, body=INSULT, email="ann@example.org")))
    assert held.status == CommentStatus.PENDING
    assert held.signals["held"]["likely_rejected"] >= 0.8
    assert "trusted_author" not in held.signals

    plain = post(client, body=CIVIL, email="ann@example.org")
    assert plain.json["status"] == "approved"


def test_a_trusted_authors_likely_reject_is_published_by_default(app, client, site):
    _trusting(app, site)
    response = post(client, body=INSULT, email="ann@example.org")
    assert response.status_code == 202
    assert response.json["status"] == "approved"


def test_the_learning_filters_switch_turns_the_score_off(app, client, site):
    site(reject_nudge=True, spam_filter_enabled=False)
    comment = stored(app, accepted(post(client, body=INSULT)))
    assert "likely_rejected" not in comment.signals


def test_a_trusted_authors_edit_into_a_likely_reject_waits_for_a_moderator(
    app, client, site
):
    # An edit is never nudged (it is not refused), but a site that holds or
    # nudges keeps it from readers until a moderator decides.
    _trusting(app, site, reject_nudge=True)
    first = post(client, body=CIVIL, email="ann@example.org")
    assert first.json["status"] == "approved"
    edited = client.patch(
        f"/api/v1/sites/news/comments/{first.json['id']}",
        json={"body": INSULT, "edit_token": first.json["edit_token"]},
        headers={"Origin": ORIGIN},
    )
    assert edited.status_code == 200, edited.json
    assert edited.json["status"] == "approved"
    comment = stored(app, first.json["id"])
    assert comment.body == CIVIL  # readers keep the approved text
    listing = client.get(
        "/api/v1/sites/news/comments", query_string={"thread": "/article"}
    ).json
    assert f"<p>{CIVIL}</p>" in [c["html"] for c in listing["comments"]]
    assert not [c for c in listing["comments"] if "idiots" in c["html"]]
    with app.app_context():
        (revision,) = db.session.scalars(sa.select(CommentRevision))
        assert revision.signals["held"]["likely_rejected"] >= 0.8

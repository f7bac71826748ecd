"""What the learning filter learns and how a model is used: only words a
moderator decided (never an author's later edit), the learned store threshold
as a floor, the starter/site blend, newer models stored over older ones, and a
retrained model reaching every process at once (not after the cache's TTL)."""

import math
import time

import numpy as np
import pytest
import sqlalchemy as sa
from factories import make_site
from spam.conftest import ORIGIN, accepted, post, stored

from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.learning import blend, cutoffs, features, starter, store
from commentsvc.learning.model import LinearModel
from commentsvc.learning.trainer import retrain
from commentsvc.models import (
    SPAM_HOLD_THRESHOLD,
    SPAM_THRESHOLD,
    Ban,
    BanKind,
    Comment,
    CommentStatus,
    Moderator,
    Site,
)
from commentsvc.moderation.accounts import create_moderator

from .conftest import CAMPAIGN, REAL_TEXTS, SPAM_TEXTS

API = "/api/v1/sites/news/comments"


def _site_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Site.id).where(Site.slug == "news"))


def _decide(app, ids, status):
    """Decide *ids* as a moderator (the one decision function)."""
    with app.app_context():
        moderator = db.session.scalar(sa.select(Moderator).limit(1))
        targets = [Target(i, db.session.get(Comment, i).version) for i in ids]
        assert len(moderate(moderator, targets, status).changed) == len(ids)


def _teach(app, client, rounds=2):
    spam_ids, real_ids = [], []
    for n in range(rounds):
        spam_ids += [accepted(post(client, body=f"{t} ({n})")) for t in SPAM_TEXTS]
        real_ids += [
            accepted(post(client, body=f"{t} ({n})", email=f"r{n}{i}@example.org"))
            for i, t in enumerate(REAL_TEXTS)
        ]
    _decide(app, spam_ids, CommentStatus.SPAM)
    _decide(app, real_ids, CommentStatus.APPROVED)
    return spam_ids, real_ids


def _edit(client, comment_id, token, body):
    response = client.patch(
        f"{API}/{comment_id}",
        json={"body": body, "edit_token": token},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 200, response.json
    return response.json


def test_the_filter_learns_the_words_decided_never_an_authors_later_edit(app, client):
    # A site that publishes trusted authors' edits at once: approved comments
    # whose text then turns into spam without any moderator seeing it (the
    # probe of issue 25: nine such edits moved a spam text from 0.82 to 0.51).
    with app.app_context():
        make_site(
            moderation_policy="trust_approved_authors",
            trusted_author_min_approved=1,
            spam_threshold=1.0,
            spam_hold_threshold=1.0,
        )
        create_moderator("mod", "correct horse battery", site_slugs=["news"])
    spam_ids, real_ids = _teach(app, client)
    decided = {i: stored(app, i).body for i in spam_ids + real_ids}
    tokens = {}
    for i in real_ids[:9]:
        with app.app_context():
            comment = db.session.get(Comment, i)
            # The edit token is only in the post's answer: give it a new one.
            from commentsvc.comments.service import edit_token_hash, new_edit_token

            tokens[i] = new_edit_token()
            comment.edit_token_hash = edit_token_hash(tokens[i])
            db.session.commit()
        answer = _edit(client, i, tokens[i], f"{SPAM_TEXTS[i % 6]} [edited]")
        assert answer["edit_pending"] is False  # published by trust, undecided

    with app.app_context():
        learned = store.examples(_site_id(app))
    assert sorted(e.body for e in learned) == sorted(decided.values())
    assert not any("[edited]" in e.body for e in learned)
    assert sum(e.is_spam for e in learned) == len(spam_ids)


def test_an_edit_a_moderator_approves_is_learned_as_decided(app, client):
    with app.app_context():
        make_site(spam_threshold=1.0, spam_hold_threshold=1.0)
        create_moderator("mod", "correct horse battery", site_slugs=["news"])
    response = post(client, body=REAL_TEXTS[0])
    comment_id, token = response.json["id"], response.json["edit_token"]
    _decide(app, [comment_id], CommentStatus.APPROVED)
    assert _edit(client, comment_id, token, REAL_TEXTS[1])["edit_pending"] is True
    with app.app_context():
        assert [e.body for e in store.examples(_site_id(app))] == [REAL_TEXTS[0]]
        from commentsvc.comments import revisions

        revision = revisions.pending_for([comment_id])[comment_id]
        moderator = db.session.scalar(sa.select(Moderator).limit(1))
        revisions.decide(moderator, revision.id, revision.version, approve=True)
        assert [e.body for e in store.examples(_site_id(app))] == [REAL_TEXTS[1]]


class _Settings:
    spam_threshold = None
    spam_hold_threshold = None


def _model(intercept, weight=0.0, row=None, examples=0) -> LinearModel:
    columns = row.indices if row is not None else np.array([], dtype=np.int64)
    return LinearModel(
        columns, np.full(len(columns), float(weight)), intercept, examples, 0
    )


def test_the_learned_store_threshold_is_a_floor_never_a_ceiling(app):
    with app.app_context():
        base = starter.model()
    strict = store.SiteModel(1, _model(0.0), spam_floor=0.93)
    lenient = store.SiteModel(1, _model(0.0), spam_floor=0.2)
    # The site's own out-of-fold scores need 0.93: stored as spam from there.
    assert cutoffs.pick(_Settings, base, strict) == (0.93, SPAM_HOLD_THRESHOLD)
    # A lower learned floor never stores below the default threshold.
    assert cutoffs.pick(_Settings, base, lenient)[0] == SPAM_THRESHOLD
    # The starter alone: its own floor, at least the default.
    alone = cutoffs.pick(_Settings, base, store.NO_MODEL)
    assert alone[0] == max(SPAM_THRESHOLD, base.spam_floor)
    assert alone[0] >= SPAM_THRESHOLD and alone[0] >= base.spam_floor


@pytest.mark.parametrize("examples", [25, 300])
def test_the_site_model_weighs_more_as_its_decisions_grow(examples):
    row = features.extract("Reader", f"Try {CAMPAIGN} today, cheap and fast")
    base = _model(-1.0, 0.5, row)
    site = store.SiteModel(1, _model(2.0, -1.5, row, examples), None)
    a = examples / (examples + blend.STARTER_WEIGHT)
    expected = (1 - a) * base.logit(row) + a * site.model.logit(row)

    logit, contributions, name = blend.combine(base, site, row)

    assert logit == pytest.approx(expected)
    assert contributions.sum() == pytest.approx(
        (1 - a) * base.contributions(row).sum()
        + a * site.model.contributions(row).sum()
    )
    assert f"weight {a:.2f}" in name
    # Few decisions: mostly the starter's opinion; many: mostly the site's.
    nearer = base.logit(row) if a < 0.5 else site.model.logit(row)
    farther = site.model.logit(row) if a < 0.5 else base.logit(row)
    assert abs(logit - nearer) < abs(logit - farther)


def test_a_model_trained_on_newer_decisions_replaces_an_older_one(app):
    with app.app_context():
        make_site()
        site_id = _site_id(app)
        model = _model(0.5)
        assert store.save(site_id, model, 10, None, {}) == 1
        assert store.save(site_id, model, 12, None, {}) == 2  # newer: stored
        assert store.save(site_id, model, 12, None, {}) == 3  # as new: stored
        assert store.save(site_id, model, 11, None, {}) is None  # older: kept out
        row = store.model_row(site_id)
        assert (row.version, row.trained_through) == (3, 12)


def test_a_retrained_model_reaches_another_process_at_once(make_app):
    # Both caches would keep the old model for ten minutes: only the trainer's
    # broadcast can make the reader use the new one within seconds.
    reader = make_app(READ_CACHE_TTL=600)
    trainer = make_app(READ_CACHE_TTL=600)
    with reader.app_context():
        make_site(spam_threshold=1.0, spam_hold_threshold=1.0)
        create_moderator("mod", "correct horse battery", site_slugs=["news"])
        from commentsvc.comments.cache import read_cache

        cache = read_cache()
        cache._ensure_subscriber()
        assert cache.subscribed.wait(5)
    client = reader.test_client()
    probe = f"Has anyone here tried {CAMPAIGN}? I hear good things about it"
    first = stored(reader, accepted(post(client, body=probe)))
    assert first.signals["spam_filter"]["model"] == "starter"  # now cached
    _teach(trainer, trainer.test_client())
    with trainer.app_context():
        assert retrain(_site_id(trainer)).version == 1

    deadline = time.monotonic() + 5
    while True:
        signal = stored(reader, accepted(post(client, body=probe))).signals
        if signal["spam_filter"]["model"].startswith("site v1"):
            break
        assert time.monotonic() < deadline, "the reader kept the old model"
        time.sleep(0.1)
    assert (
        signal["spam_filter"]["probability"]
        > first.signals["spam_filter"]["probability"]
    )
    assert not math.isnan(signal["spam_filter"]["probability"])


def test_a_status_the_rules_give_an_edit_later_is_no_label(app, client):
    # Approved by a moderator, then edited into spam (a ban here): the
    # moderator's label (real) stays with the words approved.
    with app.app_context():
        make_site(spam_threshold=1.0, spam_hold_threshold=1.0)
        create_moderator("mod", "correct horse battery", site_slugs=["news"])
    response = post(client, body=REAL_TEXTS[2])
    comment_id, token = response.json["id"], response.json["edit_token"]
    _decide(app, [comment_id], CommentStatus.APPROVED)
    with app.app_context():
        db.session.add(
            Ban(site_id=_site_id(app), kind=BanKind.EMAIL, value="ann@example.org")
        )
        db.session.commit()

    _edit(client, comment_id, token, SPAM_TEXTS[0])

    assert stored(app, comment_id).status == CommentStatus.SPAM
    with app.app_context():
        (example,) = store.examples(_site_id(app))
    assert (example.body, example.is_spam) == (REAL_TEXTS[2], False)

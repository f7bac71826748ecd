"""The reject model learns from a site's approve and reject decisions (never
from spam decisions), retrained by the spam filter's own worker process, and
reaches the next post at once."""

import math

import numpy as np
import pytest
import sqlalchemy as sa
from factories import make_site
from learning.conftest import REAL_TEXTS, admin, decide, flask_command, spam_worker
from servers import wait_until
from spam.conftest import accepted, post, stored

from commentsvc.extensions import db
from commentsvc.learning import features
from commentsvc.learning.model import LinearModel
from commentsvc.models import RejectModel, Site
from commentsvc.rejections.trainer import calibrated

__all__ = ["admin", "spam_worker"]  # fixtures used here

# What this site rejects and the starter never heard of: a campaign's posts.
REJECTED = [
    "Vote Zorbin for mayor, Zorbin is the only honest candidate left",
    "Zorbin will fix the roads, vote Zorbin on Thursday",
    "Only Zorbin tells the truth, everyone else is bought",
    "Zorbin 2027, share this everywhere",
    "Nobody but Zorbin can save this town, remember on Thursday",
    "Zorbin rally tonight at the square, bring your neighbours",
]
PROBE = "Zorbin is the only one who can save us, vote Zorbin"


def _likely(app, comment_id) -> dict:
    return stored(app, comment_id).signals["likely_rejected"]


def _teach(app, admin, client):
    rejected, approved = [], []
    for n in range(2):
        rejected += [accepted(post(client, body=f"{t} ({n})")) for t in REJECTED]
        approved += [
            accepted(post(client, body=f"{t} ({n})", email=f"r{n}{i}@example.org"))
            for i, t in enumerate(REAL_TEXTS)
        ]
    # Spam decisions teach the spam filter, not this model.
    spam = [
        accepted(post(client, body=f"Buy cheap watches at our shop ({n})"))
        for n in range(3)
    ]
    decide(admin, rejected, "reject")
    decide(admin, approved, "approve")
    decide(admin, spam, "spam")


def test_the_spam_worker_retrains_the_reject_model_from_decisions(
    app, client, admin, spam_worker
):
    with app.app_context():
        make_site(spam_filter_enabled=True)
    before = _likely(app, accepted(post(client, body=PROBE)))
    assert before["model"] == "starter"
    spam_worker(app, poll_interval=0.5)
    _teach(app, admin, client)

    after = wait_until(
        lambda: (
            (s := _likely(app, accepted(post(client, body=PROBE))))["model"]
            != "starter"
            and s
        ),
        timeout=60,
        interval=0.5,
    )
    assert after["model"].startswith("site v1 (24 decisions")
    # 24 decisions weigh 24 / (24 + 100) of the blend: the score moves, the
    # starter still leads (docs/spam.md, "What a site rejects").
    assert after["probability"] > 3 * before["probability"]
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == "news"))
        row = db.session.get(RejectModel, site_id)
        assert (row.examples, row.rejected_examples) == (24, 12)


def test_spam_retrain_also_rebuilds_the_reject_model(app, client, admin):
    with app.app_context():
        make_site(spam_filter_enabled=True)
    _teach(app, admin, client)
    result = flask_command(app, "spam", "retrain", "--site", "news")
    assert result.returncode == 0, result.stderr
    with app.app_context():
        (row,) = db.session.scalars(sa.select(RejectModel)).all()
        own = LinearModel.from_bytes(row.state)
    # The site's own model, alone, has learned what this site rejects.
    assert own.probability(features.extract("Reader", PROBE)) > 0.5
    # The intercept is the site's own share of rejects, not balanced classes:
    # a comment like nothing it learned scores about that share, or less.
    plain = _likely(app, accepted(post(client, body="The bus was late again.")))
    assert plain["probability"] < 0.5


def test_a_trained_model_speaks_of_the_sites_own_share_of_rejects():
    # Balanced classes in training; the stored intercept is moved back to
    # the site's share (here 10 of 40): log(10 / 30) lower.
    trained = LinearModel(
        np.array([1, 2], dtype=np.int64), np.array([0.5, -0.5]), 0.25, 40, 10
    )
    stored_model = calibrated(trained)
    assert stored_model.intercept == pytest.approx(0.25 + math.log(10 / 30))
    assert (stored_model.examples, stored_model.spam_examples) == (40, 10)
    assert stored_model.weights.tolist() == [0.5, -0.5]

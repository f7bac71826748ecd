"""The filter's second round: rarer words weigh more (IDF), the words and the
character n-grams are weighed apart, the hold threshold is learned from the
site's out-of-fold scores, and a young site model is never harsher than the
starter alone."""

import io

import numpy as np
import pytest

from commentsvc.learning import blend, cutoffs, features, starter, store, trainer
from commentsvc.learning.model import BrokenModel, LinearModel
from commentsvc.learning.trainer import floors
from commentsvc.learning.training import Example, train
from commentsvc.models import SPAM_HOLD_THRESHOLD, SPAM_THRESHOLD

from .conftest import REAL_TEXTS, SPAM_TEXTS

PLAIN = "Our town tried this too; it worked for two winters."


class _Settings:
    spam_threshold = None
    spam_hold_threshold = None


def _examples(n_spam, n_real):
    spam = [Example("", f"{t} #{i}", True) for i in range(n_spam) for t in SPAM_TEXTS]
    real = [Example("", f"{t} ({i})", False) for i in range(n_real) for t in REAL_TEXTS]
    return spam + real


def test_shape_marks_are_features():
    row = features.extract(
        "Ann", "DM @fx_trader_anna #forex ᴛʀᴀᴅᴇ ɪɴ ғᴏʀᴇx anna@fx.example"
    )
    assert "[mention]" in row.words
    assert "[hashtag]" in row.words
    assert "[dressed-up letters]" in row.words
    assert "[email]" in row.words
    plain = features.extract("Ann", PLAIN)
    assert not [w for w in plain.words if w.startswith("[")]


def test_the_two_blocks_are_normalised_apart():
    row = features.extract("", "free money " * 40 + "now")
    split = np.searchsorted(row.indices, features.N_CHAR)
    assert split == row.split
    chars, words = row.values[:split], row.values[split:]
    assert len(chars) and len(words)
    assert chars @ chars == pytest.approx(1.0)
    assert words @ words == pytest.approx(1.0)


def test_a_rare_column_weighs_more_than_a_common_one():
    model, _ = train(_examples(3, 3))
    assert model.idf is not None and len(model.idf) == len(model.columns)
    # Every training comment has "the"-like n-grams; an unseen one is rarer.
    assert model.idf.min() >= 1.0
    assert model.idf_unseen > model.idf.max() - 1e-9
    common = features.extract("", "the")
    at = np.searchsorted(model.columns, common.indices[0])
    assert model.idf[at] < model.idf_unseen


def test_idf_survives_storage_and_an_old_format_is_refused():
    model, _ = train(_examples(2, 2))
    again = LinearModel.from_bytes(model.to_bytes())
    assert np.array_equal(again.idf, model.idf)
    assert again.idf_unseen == model.idf_unseen
    row = features.extract("", SPAM_TEXTS[0])
    assert again.probability(row) == pytest.approx(model.probability(row))
    # A model of the first format (no IDF, five header numbers) is refused:
    # `spam retrain` rebuilds it (the worker does at its start).
    old = io.BytesIO()
    for array in (
        np.array([1.0, 2.0, 0.0, 4.0, 2.0]),
        model.columns,
        model.weights,
    ):
        np.save(old, array, allow_pickle=False)
    with pytest.raises(BrokenModel):
        LinearModel.from_bytes(old.getvalue())


def test_floors_read_the_out_of_fold_scores():
    # 200 real comments scoring 0.00 … 0.995, 50 spam at 0.99.
    real = np.arange(200) / 200
    oof = np.concatenate([real, np.full(50, 0.99)])
    examples = [Example("", "", False)] * 200 + [Example("", "", True)] * 50
    store_floor, hold_floor = floors(oof, examples)
    # At most 0.5 % (one) of the real comments at or above the store floor,
    # at most 2.5 % (five) at or above the hold floor.
    assert trainer.REAL_ABOVE_FLOOR == 0.005 and trainer.REAL_HELD == 0.025
    assert (real >= store_floor).sum() == 1
    assert (real >= hold_floor).sum() == 5
    assert hold_floor < store_floor


def test_the_learned_hold_threshold_is_used_within_bounds(app):
    with app.app_context():
        base = starter.model()
    model = LinearModel(np.zeros(0, np.int64), np.zeros(0), 0.0, 500, 100)
    learned = store.SiteModel(1, model, spam_floor=0.7, hold_floor=0.45)
    assert cutoffs.pick(_Settings, base, learned) == (0.7, 0.45)
    low = store.SiteModel(1, model, spam_floor=0.7, hold_floor=0.01)
    assert cutoffs.pick(_Settings, base, low)[1] == cutoffs.HOLD_MIN
    high = store.SiteModel(1, model, spam_floor=0.7, hold_floor=0.9)
    assert cutoffs.pick(_Settings, base, high)[1] == 0.7
    # No out-of-fold scores yet: the starter's own thresholds.
    unscored = store.SiteModel(1, model, spam_floor=None)
    assert cutoffs.pick(_Settings, base, unscored) == (
        max(SPAM_THRESHOLD, base.spam_floor),
        max(SPAM_HOLD_THRESHOLD, base.hold_floor),
    )


def _pushy(row, examples, floor):
    """A site model that pushes every column of *row* hard towards spam."""
    model = LinearModel(row.indices, np.full(len(row.indices), 5.0), 2.0, examples, 5)
    return store.SiteModel(1, model, spam_floor=floor, hold_floor=floor)


@pytest.mark.parametrize("examples", [11, cutoffs.YOUNG - 1])
def test_a_young_site_model_is_never_harsher_than_the_starter(app, examples):
    with app.app_context():
        base = starter.model()
    row = features.extract("Reader", PLAIN)
    alone = cutoffs.decide(_Settings, base, blend.NO_MODEL, row)
    assert alone.outcome == "pass"
    young = cutoffs.decide(_Settings, base, _pushy(row, examples, 0.6), row)
    assert young.probability > 0.6  # the blend alone would have stored it
    assert young.outcome == "pass"
    assert "young" in young.model


def test_a_grown_site_model_decides_on_its_own(app):
    with app.app_context():
        base = starter.model()
    row = features.extract("Reader", PLAIN)
    grown = cutoffs.decide(_Settings, base, _pushy(row, cutoffs.YOUNG, 0.6), row)
    assert grown.outcome == "spam"


def test_a_plain_sentence_passes_after_eleven_real_decisions(app):
    """The issue's case: 11 decisions, the plain sentence held at 37 %."""
    with app.app_context():
        base = starter.model()
    examples = _examples(1, 1)[: 11 - len(REAL_TEXTS)] + _examples(0, 1)
    model, oof = train(examples)
    found = floors(oof, examples) if oof is not None else (None, None)
    own = store.SiteModel(1, model, *found)
    decision = cutoffs.decide(_Settings, base, own, features.extract("Ann", PLAIN))
    assert decision.outcome == "pass"


def test_an_outdated_model_is_left_to_the_starter_and_retrained(app):
    """After an upgrade that changes the features, a stored model of the old
    version is not an error on the post path (the starter judges alone) and
    the worker's first pass retrains it."""
    import sqlalchemy as sa
    from factories import make_site

    from commentsvc.extensions import db
    from commentsvc.models import SpamModel, utcnow

    old = io.BytesIO()
    for array in (np.array([1.0, 2.0, 0.0, 4.0, 2.0]), np.zeros(0, np.int64)):
        np.save(old, array, allow_pickle=False)
    np.save(old, np.zeros(0), allow_pickle=False)
    with app.app_context():
        site = make_site(slug="upgraded")
        db.session.add(
            SpamModel(
                site_id=site.id,
                version=3,
                state=old.getvalue(),
                trained_through=10**6,
                examples=4,
                spam_examples=2,
                figures={},
                trained_at=utcnow(),
            )
        )
        db.session.commit()
        assert store.site_model(site.id, site.slug) is store.NO_MODEL
        assert store.trained_through()[site.id] == 0
        assert db.session.scalar(sa.select(SpamModel.version)) == 3


def test_a_header_of_the_wrong_length_is_broken_not_outdated():
    from commentsvc.learning.features import VERSION
    from commentsvc.learning.model import FORMAT

    model, _ = train(_examples(2, 2))
    short = io.BytesIO()
    np.save(short, np.array([FORMAT, VERSION, 0.0, 4.0, 2.0]), allow_pickle=False)
    for array in (model.columns, model.weights, model.idf):
        np.save(short, array, allow_pickle=False)
    with pytest.raises(BrokenModel) as raised:
        LinearModel.from_bytes(short.getvalue())
    assert raised.type is BrokenModel


def test_the_words_share_out_exactly_what_the_columns_pushed():
    """A column's push goes to the words once in all, however often the
    comment repeats it: the word "free" said four times, its column pushing
    1.0, is 1.0 to the moderator, not 4.0."""
    row = features.extract("", "free free free free")
    at = int(np.searchsorted(row.indices, features._hash_word("free")))
    contributions = np.zeros(len(row.indices))
    contributions[at] = 1.0
    assert features.by_word(row, contributions) == pytest.approx({"free": 1.0})


def test_a_large_site_scores_out_of_fold_in_three_folds():
    from commentsvc.learning import training

    assert training.folds_for(40) == 5
    assert training.folds_for(4999) == 5
    assert training.folds_for(5000) == 3
    assert training.folds_for(20_000) == 3


def test_an_outdated_reject_model_is_left_to_its_starter(app):
    """The reject model reads its state through the same door as the spam
    model: one of an older version is no model, not an error."""
    from factories import make_site

    from commentsvc.extensions import db
    from commentsvc.models import RejectModel, utcnow
    from commentsvc.rejections import store as reject_store

    old = io.BytesIO()
    for array in (np.array([1.0, 2.0, 0.0, 4.0, 2.0]), np.zeros(0, np.int64)):
        np.save(old, array, allow_pickle=False)
    np.save(old, np.zeros(0), allow_pickle=False)
    with app.app_context():
        site = make_site(slug="upgraded-rejects")
        db.session.add(
            RejectModel(
                site_id=site.id,
                version=2,
                state=old.getvalue(),
                trained_through=5,
                examples=4,
                rejected_examples=2,
                trained_at=utcnow(),
            )
        )
        db.session.commit()
        found = reject_store.site_model(site.id, site.slug)
        assert found is reject_store.NO_MODEL

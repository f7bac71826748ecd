"""The reject model's starter and blend, on sentences a site would see: an
insult scores clearly high; plain and civilly disagreeing comments low; words
that merely contain a listed word ("Scunthorpe", "class", "assess") nothing."""

import pytest

from commentsvc.learning import features
from commentsvc.rejections import starter

HIGH = [
    "You are all idiots, shut this paper down.",
    "Shut up, you moron.",
    "What a pathetic bunch of scumbags run this council.",
]
LOW = [
    "Our town tried this too; it worked for two winters.",
    "I disagree with the article: the bypass will move traffic, not reduce it.",
    "This is simply wrong; the figures in the chart do not add up.",
    "With respect, the mayor is mistaken and the vote should be delayed.",
    "Scunthorpe",
    "class",
    "assess",
    "The class in Scunthorpe will assess the cocktail menu and the grasshopper.",
]


@pytest.fixture(scope="module")
def model():
    return starter.load().model


@pytest.mark.parametrize("text", HIGH)
def test_insults_score_clearly_high(model, text):
    assert model.probability(features.extract("Reader", text)) >= 0.8


@pytest.mark.parametrize("text", LOW)
def test_plain_comments_and_civil_disagreement_score_low(model, text):
    assert model.probability(features.extract("Reader", text)) < 0.1


def test_the_starter_weighs_whole_words_only(model):
    # "Scunthorpe" holds a listed word in its letters; its columns carry none.
    row = features.extract("", "Scunthorpe")
    assert not model.contributions(row).any()
    insult = features.extract("", "idiots")
    assert model.contributions(insult).max() > 0


def test_the_starter_names_its_sources_with_their_licences(model):
    meta = starter.load().meta
    assert set(meta["sources"]) == {
        "cuss (rating 2)",
        "LDNOOBW en",
        "insults.tsv (ours)",
    }
    assert meta["checks"]["You are all idiots, shut this paper down."] >= 0.8
    readme = (starter.HERE.parent.parent / "data/rejections/README.md").read_text()
    for licence in ("MIT", "CC BY 4.0", "Davidson"):
        assert licence in readme


def test_a_repeated_word_counts_once_with_its_sublinear_value(model):
    row = features.extract("", "idiots idiots idiots")
    (at,) = [i for i, w in enumerate(row.indices) if model.contributions(row)[i]]
    assert model.contributions(row).sum() == pytest.approx(
        model.weights["idiots"] * row.values[at]
    )

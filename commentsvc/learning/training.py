"""Training: a logistic regression on a site's decisions, and the thresholds
its own out-of-fold scores allow.

Runs in the worker (or the ``spam retrain`` command), never on the post path:
a few thousand comments take a second or two.
"""

from dataclasses import dataclass

import numpy as np

from . import features
from .model import LinearModel

# Out-of-fold scores need a few examples of each kind per fold. A large site
# has plenty in three folds, and each fold of five costs it seconds (12,000
# decisions: 8.5 s a fit at C = 30, 50 s a training in five folds, 35 s in three).
FOLDS = 5
FEWER_FOLDS, FEWER_FROM = 3, 5000
MIN_PER_CLASS_FOR_FOLDS = 10
# Regularisation: chosen on the development corpora (see docs/spam.md).
C = 30.0


@dataclass(frozen=True)
class Example:
    author: str
    body: str
    is_spam: bool
    weight: float = 1.0


def _fit(x, y, weights):
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression(
        C=C,
        class_weight="balanced",
        solver="liblinear",
        # The dual problem: far more columns than comments (13 times faster
        # here than the primal, same optimum).
        dual=True,
        max_iter=1000,
        random_state=0,
    )
    classifier.fit(x, y, sample_weight=weights)
    return classifier


def _as_model(classifier, examples: int, spam: int, idf, unseen) -> LinearModel:
    coef = classifier.coef_.ravel()
    columns = np.flatnonzero(coef).astype(np.int64)
    return LinearModel(
        columns=columns,
        weights=coef[columns].astype(np.float64),
        intercept=float(classifier.intercept_[0]),
        examples=examples,
        spam_examples=spam,
        idf=idf[columns],
        idf_unseen=unseen,
    )


def _idf(rows: list[features.Features]) -> tuple[np.ndarray, float]:
    """Each column's inverse document frequency among *rows* (scikit-learn's
    smoothed form), and that of a column none of them has: a word every
    comment says is weak evidence, a rare one strong."""
    n = len(rows)
    df = np.bincount(
        np.concatenate([r.indices for r in rows]), minlength=features.N_FEATURES
    )
    return np.log((1 + n) / (1 + df)) + 1.0, float(np.log(1 + n) + 1.0)


def _fit_rows(rows, y, w, spam):
    idf, unseen = _idf(rows)
    classifier = _fit(features.matrix(rows, idf), y, w)
    return _as_model(classifier, len(rows), spam, idf, unseen)


def folds_for(examples: int) -> int:
    """How many folds the out-of-fold scores of *examples* decisions use."""
    return FEWER_FOLDS if examples >= FEWER_FROM else FOLDS


def train(examples: list[Example]) -> tuple[LinearModel, np.ndarray | None]:
    """Fit a model to *examples*; return it and the out-of-fold spam
    probability of each example (None when there are too few of a kind).

    Raises:
        ValueError: the examples are not of both kinds.
    """
    y = np.array([e.is_spam for e in examples], dtype=np.int8)
    spam = int(y.sum())
    if spam == 0 or spam == len(y):
        raise ValueError("training needs both spam and real comments")
    rows = [features.extract(e.author, e.body) for e in examples]
    w = np.array([e.weight for e in examples])
    model = _fit_rows(rows, y, w, spam)
    oof = None
    if min(spam, len(y) - spam) >= MIN_PER_CLASS_FOR_FOLDS:
        from sklearn.model_selection import StratifiedKFold

        oof = np.zeros(len(y))
        folds = StratifiedKFold(
            n_splits=folds_for(len(y)), shuffle=True, random_state=0
        )
        for fit_rows, held_rows in folds.split(np.zeros(len(y)), y):
            part = _fit_rows([rows[i] for i in fit_rows], y[fit_rows], w[fit_rows], 0)
            oof[held_rows] = [part.probability(rows[i]) for i in held_rows]
    return model, oof

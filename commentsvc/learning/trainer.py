"""Training a site's model from its decisions, and the worker that does it
whenever moderators decide.

The worker learns of decisions from a Redis PUBLISH (sent after each
decision's commit) and, Redis or not, by polling ``moderation_events`` past
the newest id it has seen; so a decision is learned within seconds, and a
worker that was down catches up from the database when it starts. Any number
of workers may run: a model is only stored over one trained on older
decisions.
"""

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..comments.cache import invalidate_key, spam_model_key
from ..extensions import db
from ..rejections.trainer import retrain_quietly as retrain_rejections
from ..wakeup import Wakeup
from . import channel, store
from .training import train

log = logging.getLogger(__name__)

# The most real comments that may score above a site's learned store
# threshold, among its own out-of-fold scores.
REAL_ABOVE_FLOOR = 0.005
# The most real comments that may score above its learned hold threshold.
REAL_HELD = 0.025
# Probabilities reported by `spam report` and kept with each model.
REPORT_AT = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


@dataclass(frozen=True)
class Trained:
    site_id: int
    version: int | None
    examples: int
    seconds: float


def spam_floor(oof: np.ndarray, labels: np.ndarray, share=REAL_ABOVE_FLOOR) -> float:
    """The lowest probability at which at most *share* of the real
    comments' out-of-fold scores lie at or above it."""
    real = np.sort(oof[~labels])
    if len(real) == 0:
        return 0.0
    allowed = int(np.floor(share * len(real)))
    # Everything above the (allowed+1)-th highest real score is safe.
    highest = real[len(real) - 1 - allowed]
    return float(min(0.999, np.nextafter(highest, 1.0)))


def floors(oof: np.ndarray, examples) -> tuple[float, float | None]:
    """The store and hold floors of a model from its out-of-fold scores of
    *examples* (Example objects)."""
    labels = np.array([e.is_spam for e in examples], dtype=bool)
    return spam_floor(oof, labels), spam_floor(oof, labels, REAL_HELD)


def figures(oof: np.ndarray, labels: np.ndarray) -> dict:
    """Out-of-fold spam caught and real comments marked at each probability."""
    spam, real = oof[labels], oof[~labels]
    return {
        "spam": int(len(spam)),
        "real": int(len(real)),
        "at": {
            str(p): {
                "spam_caught": float((spam >= p).mean()) if len(spam) else None,
                "real_marked": float((real >= p).mean()) if len(real) else None,
            }
            for p in REPORT_AT
        },
    }


def retrain(site_id: int, through: int | None = None) -> Trained:
    """Rebuild the site's model from all its decisions and store it; drop it
    from every process's cache. *through* is the newest decision event it
    covers (read now if not given). Returns what was done; a site without
    decisions of both kinds keeps its model (version None).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """
    started = time.monotonic()
    if through is None:
        through = store.latest_decision(site_id).get(site_id, 0)
    # The same decisions teach the reject model (commentsvc.rejections).
    retrain_rejections(site_id, through)
    examples = store.examples(site_id)
    db.session.commit()  # no transaction held while training
    labels = np.array([e.is_spam for e in examples], dtype=bool)
    if labels.all() or not labels.any():
        return Trained(site_id, None, len(examples), time.monotonic() - started)
    model, oof = train(examples)
    floor, report = None, {}
    if oof is not None:
        floor, hold_floor = floors(oof, examples)
        report = figures(oof, labels) | {"hold_floor": hold_floor}
    version = store.save(site_id, model, through, floor, report)
    if version is not None:
        slug = store.site_slug(site_id)
        db.session.commit()
        if slug is not None:
            invalidate_key(spam_model_key(slug))
    seconds = time.monotonic() - started
    log.info(
        "spam model for site %s: version %s from %s decisions in %.2f s",
        site_id,
        version,
        len(examples),
        seconds,
    )
    return Trained(site_id, version, len(examples), seconds)


class Worker:
    """Retrains sites whose decisions are newer than their model."""

    def __init__(self, app, poll_interval: float, settle: float):
        self.app = app
        self.poll_interval = poll_interval
        self.settle = settle
        self.stop = threading.Event()
        self.seen = 0  # the newest moderation event looked at
        with app.app_context():
            self.wakeup = Wakeup(self.stop, channel(), "spam worker")

    def _due(self) -> dict[int, int]:
        """Sites to retrain, with the newest event each must cover."""
        if self.seen == 0:
            latest = store.latest_decision()
            done = store.trained_through()
            due = {s: e for s, e in latest.items() if e > done.get(s, 0)}
            self.seen = max(latest.values(), default=0)
        else:
            due = store.decisions_since(self.seen)
            self.seen = max([self.seen, *due.values()])
        db.session.commit()
        return due

    def run_once(self) -> list[Trained]:
        """Retrain every site with new decisions. A failing database is logged
        and tried again at the next wake-up or poll, never fatal."""
        with self.app.app_context():
            results = []
            try:
                due = self._due()
            except Exception:
                db.session.rollback()
                log.exception("looking for new moderation decisions failed")
                return results
            for site_id, through in sorted(due.items()):
                if self.stop.is_set():
                    break
                try:
                    results.append(retrain(site_id, through))
                except Exception:
                    db.session.rollback()
                    log.exception("training the spam model of site %s failed", site_id)
                    self.seen = min(self.seen, through - 1)  # try again later
            return results

    def run(self) -> None:
        """Train what is due, then wait for decisions (or the poll interval),
        until stopped."""
        while not self.stop.is_set():
            self.run_once()
            with self.app.app_context():
                self.wakeup.wait(self.poll_interval, settle=self.settle)

    def close(self) -> None:
        self.wakeup.close()

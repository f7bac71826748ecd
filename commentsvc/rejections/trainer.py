"""Training a site's reject model from its approve and reject decisions.

Run by the spam filter's worker (``flask spam worker``, ``flask spam
retrain``) right before each spam model: the same decisions wake both.
"""

import dataclasses
import logging
import math
import time
from dataclasses import dataclass

from ..comments.cache import invalidate_key
from ..extensions import db
from ..learning.model import LinearModel
from ..learning.store import site_slug
from ..learning.training import train
from . import store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trained:
    site_id: int
    version: int | None
    examples: int
    seconds: float


def calibrated(model: LinearModel) -> LinearModel:
    """*model* with its intercept moved back from the balanced classes it was
    trained with to the site's own share of rejects: a comment like half of
    what the site rejects, and half of what it approves, gets that share, not
    50 % (a threshold of 0.7 then means what it says)."""
    rejected, approved = model.spam_examples, model.examples - model.spam_examples
    shift = math.log(rejected / approved)
    return dataclasses.replace(model, intercept=model.intercept + shift)


def retrain(site_id: int, through: int) -> Trained:
    """Rebuild the site's reject model from its decisions and store it; drop it
    from every process's cache. A site without decisions of both kinds keeps
    its model (version None).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """
    started = time.monotonic()
    examples = store.examples(site_id)
    db.session.commit()  # no transaction held while training
    rejected = sum(e.is_spam for e in examples)
    if rejected == 0 or rejected == len(examples):
        return Trained(site_id, None, len(examples), time.monotonic() - started)
    model, _ = train(examples)
    version = store.save(site_id, calibrated(model), through)
    if version is not None:
        slug = site_slug(site_id)
        db.session.commit()
        if slug is not None:
            invalidate_key(store.model_key(slug))
    seconds = time.monotonic() - started
    log.info(
        "reject model for site %s: version %s from %s decisions in %.2f s",
        site_id,
        version,
        len(examples),
        seconds,
    )
    return Trained(site_id, version, len(examples), seconds)


def retrain_quietly(site_id: int, through: int) -> Trained | None:
    """:func:`retrain`, with a failure logged and rolled back, never raised:
    the spam model trained next must not wait on this one."""
    try:
        return retrain(site_id, through)
    except Exception:  # noqa: BLE001 - logged; the next decision tries again
        db.session.rollback()
        log.exception("training the reject model of site %s failed", site_id)
        return None

"""The trainer of bench/filter_eval.py: ``flask --app wsgi spam worker`` in
its own process, as docs/production.md runs it, and waiting until it has
learned the decisions made so far."""

import contextlib
import subprocess
import sys
import time
from pathlib import Path

from bench.eval_http import BenchError

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def spam_worker(env: dict, log: Path):
    """``flask --app wsgi spam worker``, as docs/production.md runs it."""
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "spam", "worker"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def trained(app, site_id: int) -> tuple[int, int]:
    """(the site's newest decision event, the newest its model covers)."""
    import sqlalchemy as sa

    from commentsvc.extensions import db
    from commentsvc.models import ModerationEvent, SpamModel

    with app.app_context():
        latest = db.session.scalar(
            sa.select(sa.func.max(ModerationEvent.id)).where(
                ModerationEvent.site_id == site_id
            )
        )
        through = db.session.scalar(
            sa.select(sa.func.max(SpamModel.trained_through)).where(
                SpamModel.site_id == site_id
            )
        )
        db.session.rollback()
    return latest or 0, through or 0


def wait_for_training(app, site_id: int, worker, timeout=180.0) -> float:
    """Until the worker's model covers every decision of the site so far;
    the seconds waited.

    Raises:
        BenchError: the worker stopped, or did not catch up in *timeout*.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        latest, through = trained(app, site_id)
        if through >= latest:
            return time.monotonic() - started
        if worker.poll() is not None:
            raise BenchError(f"the spam worker exited ({worker.returncode})")
        time.sleep(0.05)
    raise BenchError(f"the spam worker did not learn in {timeout:.0f} s")


def wait_for_worker(app, worker, timeout=60.0) -> None:
    """Until the worker listens for decisions (subscribed to its Redis
    channel): a wake-up sent before that would wait for its next poll.

    Raises:
        BenchError: the worker stopped, or did not subscribe in *timeout*.
    """
    from commentsvc import learning
    from commentsvc.extensions import get_redis

    with app.app_context():
        channel, client = learning.channel(), get_redis()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if dict(client.pubsub_numsub(channel)).get(channel.encode()):
                return
            if worker.poll() is not None:
                raise BenchError(f"the spam worker exited ({worker.returncode})")
            time.sleep(0.05)
    raise BenchError(f"the spam worker did not subscribe in {timeout:.0f} s")

"""The mail worker: claim due messages with a lease, render, send, record.

A claim reads the earliest due messages (on PostgreSQL with ``FOR UPDATE SKIP
LOCKED``, so concurrent workers skip each other's rows) and leases them in the
same transaction with an update that checks again that each is still claimable
(SQLite has no row locks; its writes are serialised). A message is sent only
while its lease outlives the SMTP timeout, and marked sent right after the
server accepted it, in its own transaction, only while the lease is still ours:
nothing is sent twice in the ordinary case, and a worker killed mid-batch leaves
leases that run out, after which the messages are sent again.

An SMTP server that is down fails the attempt: the message waits for its next
retry (``MAIL_RETRY_DELAYS``, jittered), and so do the others of the batch,
without counting an attempt. After the last retry it is marked failed.
"""

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import DeliveryStatus, MailMessage, as_utc, utcnow
from ..wakeup import Wakeup
from . import digest
from .compose import Skip, compose
from .settings import Settings
from .transport import Connection, MailRefused, MailUnavailable
from .wake import channel

log = logging.getLogger(__name__)
_outbox = MailMessage.__table__
# A send must end this long before its lease does.
LEASE_MARGIN = 1.0
DIGEST_EVERY = 60.0  # seconds between looks for digests that are due


@dataclass
class Stats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, other: "Stats") -> None:
        for name in ("sent", "retrying", "failed", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _claimable(now: datetime) -> list:
    return [
        _outbox.c.status == DeliveryStatus.PENDING.value,
        _outbox.c.next_attempt_at <= now,
        sa.or_(_outbox.c.locked_until.is_(None), _outbox.c.locked_until <= now),
    ]


def claim(
    settings: Settings, now: datetime | None = None
) -> tuple[list[int], datetime]:
    """Lease up to a batch of due messages, earliest first: their ids and the
    lease's end.

    Raises:
        sqlalchemy.exc.OperationalError: the database is unavailable.
    """
    now = now or utcnow()
    lease = now + settings.lease
    with db.engine.begin() as connection:
        picked = connection.scalars(
            sa.select(_outbox.c.id)
            .where(*_claimable(now))
            .order_by(_outbox.c.next_attempt_at, _outbox.c.id)
            .limit(settings.batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not picked:
            return [], lease
        ids = connection.scalars(
            sa.update(_outbox)
            .where(_outbox.c.id.in_(picked), *_claimable(now))
            .values(locked_until=lease)
            .returning(_outbox.c.id)
        ).all()
    return sorted(ids), lease


def _give_up(message_id: int, lease, why: str) -> None:
    """Mark a message failed for good (it will never render), with why."""
    _finish(message_id, lease, status=DeliveryStatus.FAILED.value, last_error=why[:500])


def _finish(message_id: int, lease: datetime, **values) -> None:
    """Record the outcome of one message, only while the lease is ours."""
    db.session.execute(
        sa.update(_outbox)
        .where(_outbox.c.id == message_id, _outbox.c.locked_until == lease)
        .values(locked_until=None, **values)
    )
    db.session.commit()


@dataclass
class Worker:
    """Claims, sends and records until stopped. Needs an app context."""

    settings: Settings
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.wakeup = Wakeup(self.stop, channel(), "mail worker")
        self.last_digest = 0.0

    @classmethod
    def from_app(cls, app, **overrides) -> "Worker":
        """Raises: ValueError: mail is not configured."""
        return cls(Settings.from_config(app.config, **overrides))

    def close(self) -> None:
        self.wakeup.close()

    def _retry_at(self, attempts: int, now: datetime) -> datetime | None:
        delays = self.settings.retry_delays
        if attempts > len(delays):
            return None
        delay = delays[attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311
        return now + timedelta(seconds=delay)

    def send_batch(self) -> tuple[int, Stats]:
        """Claim a batch and send it; returns how many were claimed."""
        ids, lease = claim(self.settings)
        stats = Stats()
        connection = Connection(self.settings.transport, self.settings.timeout)
        try:
            down = None  # the server's trouble, once it showed
            for message_id in ids:
                down = (
                    self._send_one(message_id, lease, connection, stats, down) or down
                )
        finally:
            connection.close()
            db.session.remove()
        return len(ids), stats

    def _send_one(self, message_id, lease, connection, stats, down):
        """Send one claimed message; returns when to retry if the server is
        down (so the rest of the batch waits too), else None."""
        now = utcnow()
        row = db.session.get(MailMessage, message_id)
        if row is None or as_utc(row.locked_until) != lease:
            return None  # purged, or no longer ours
        if down is not None:
            # The server just failed: the rest of the batch waits for the same
            # retry, without spending an attempt each.
            _finish(message_id, lease, next_attempt_at=down, last_error=row.last_error)
            return None
        if (lease - now).total_seconds() < self.settings.timeout + LEASE_MARGIN:
            _finish(message_id, lease)  # too late to send safely: next claim
            return None
        try:
            message = compose(row)
        except Skip as reason:
            stats.skipped += 1
            _give_up(message_id, lease, f"not sent: {reason}")
            return None
        except sa.exc.OperationalError:
            raise  # the database is down: the worker waits and tries again
        except Exception as error:  # noqa: BLE001 - one bad row must not stop the rest
            log.exception("mail %s could not be rendered", message_id)
            db.session.rollback()
            stats.failed += 1
            _give_up(
                message_id, lease, f"could not be rendered: {type(error).__name__}"
            )
            return None
        attempts = row.attempts + 1
        db.session.rollback()  # no transaction held while the server answers
        try:
            connection.send(message)
        except MailRefused as error:
            stats.failed += 1
            log.warning("mail %s refused: %s", message_id, error)
            _finish(
                message_id,
                lease,
                status=DeliveryStatus.FAILED.value,
                attempts=attempts,
                last_error=str(error)[:500],
            )
        except MailUnavailable as error:
            retry_at = self._retry_at(attempts, now)
            log.warning("mail %s not sent: %s", message_id, error)
            if retry_at is None:
                stats.failed += 1
                _finish(
                    message_id,
                    lease,
                    status=DeliveryStatus.FAILED.value,
                    attempts=attempts,
                    last_error=str(error)[:500],
                )
            else:
                stats.retrying += 1
                _finish(
                    message_id,
                    lease,
                    attempts=attempts,
                    next_attempt_at=retry_at,
                    last_error=str(error)[:500],
                )
                return retry_at
        else:
            stats.sent += 1
            _finish(
                message_id,
                lease,
                status=DeliveryStatus.SUCCEEDED.value,
                attempts=attempts,
                sent_at=utcnow(),
                last_error=None,
            )
        return None

    def _digests(self, force: bool = False) -> None:
        if force or time.monotonic() - self.last_digest >= DIGEST_EVERY:
            self.last_digest = time.monotonic()
            digest.gather()

    def run_until_idle(self) -> Stats:
        """Gather due digests, then send until nothing is due (``--once``)."""
        total = Stats()
        self._digests(force=True)
        while True:
            claimed, stats = self.send_batch()
            total.add(stats)
            if not claimed or stats.retrying:
                return total

    def run(self) -> Stats:
        """Work until :attr:`stop` is set, woken by Redis or by polling."""
        total = Stats()
        while not self.stop.is_set():
            try:
                self._digests()
                claimed, stats = self.send_batch()
                total.add(stats)
                pause = 0 if claimed and not stats.retrying else self._idle_wait()
            except sa.exc.OperationalError as error:
                log.warning("mail worker: database unavailable: %s", error)
                db.session.remove()
                pause = self.settings.poll_interval
            if pause > 0:
                self.wakeup.wait(pause)
        return total

    def _idle_wait(self) -> float:
        with db.engine.connect() as connection:
            due = connection.scalar(
                sa.select(sa.func.min(_outbox.c.next_attempt_at)).where(
                    _outbox.c.status == DeliveryStatus.PENDING.value
                )
            )
        if isinstance(due, str):  # SQLite hands back the text of an expression
            due = datetime.fromisoformat(due)
        pause = self.settings.poll_interval
        if due is not None:
            pause = min(pause, (as_utc(due) - utcnow()).total_seconds())
        return max(pause, 0.05)

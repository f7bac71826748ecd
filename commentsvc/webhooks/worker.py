"""The webhook worker: claim due deliveries, send them, record every attempt.

The worker holds up to ``WEBHOOK_BATCH_SIZE`` claimed deliveries and sends up to
``WEBHOOK_CONCURRENCY`` of them at once, of one endpoint at most half of each.
Results are recorded as sends end, and the worker claims more while it could
send more, or when woken: no batch waits for its slowest send, so a slow
endpoint holds up nobody else, and every attempt ends by its deadline (see
:mod:`.delivery`).

Sending happens outside any transaction; results are written each only if the
lease is still ours (:mod:`.results`). A worker killed mid-send leaves its leases
to run out, after which another worker (or itself, restarted) sends those
deliveries again with the same ``webhook-id``: at least once, never lost. Told
to stop (SIGTERM), it claims nothing more, lets the sends in flight end (by
their deadline at the latest), records them and returns.

Redis only wakes an idle worker up (a PUBLISH after each commit); the worker also
polls the database, so with Redis down deliveries are late, never lost.
"""

import logging
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..models import utcnow
from ..wakeup import Wakeup
from .claims import Job, claim, next_due
from .delivery import AddressPolicy, Sender
from .results import Result, Stats, record
from .settings import LEASE_MARGIN, Settings
from .signing import signed_headers, signing_secrets
from .wake import channel

log = logging.getLogger(__name__)

# Results of sends that ended are recorded together, the first of them after
# this many seconds at the latest: far within the lease's margin.
RECORD_WITHIN = 0.1


def _send(sender: Sender, settings: Settings, job: Job) -> Result:
    now = utcnow()
    remaining = (job.lease - now).total_seconds()
    if remaining < settings.deadline + LEASE_MARGIN:
        return Result(job, now, None)
    secrets_ = signing_secrets(
        job.secret, job.previous_secret, job.previous_secret_expires_at, now
    )
    headers = signed_headers(secrets_, job.message_id, job.body, now)
    return Result(job, now, sender.send(job.url, headers, job.body))


@dataclass
class Worker:
    """Claims, sends and records until stopped. Needs an app context."""

    settings: Settings
    policy: AddressPolicy
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.sender = Sender(
            self.policy,
            self.settings.timeout,
            self.settings.concurrency,
            deadline=self.settings.deadline,
        )
        self.pool = ThreadPoolExecutor(
            self.settings.concurrency, thread_name_prefix="webhook-send"
        )
        self.wakeup = Wakeup(self.stop, channel(), "webhook worker")
        self.waiting: list[Job] = []  # claimed, not yet sent
        self.in_flight: dict[Future, Job] = {}
        self.ended: list[Result] = []  # sent, not yet recorded
        self.first_ended = 0.0
        # Set whenever a send ends: its place can be filled again.
        self.send_ended = threading.Event()

    @classmethod
    def from_app(cls, app, **overrides) -> "Worker":
        """Raises: ValueError: the WEBHOOK_* settings cannot work together."""
        return cls(
            Settings.from_config(app.config, **overrides),
            AddressPolicy.from_config(app.config),
        )

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.sender.close()
        self.wakeup.close()

    def _held(self) -> Counter:
        """Deliveries held per endpoint: waiting, being sent, or sent but not
        yet recorded (their leases are still ours)."""
        jobs = [*self.waiting, *self.in_flight.values()]
        return Counter(job.endpoint_id for job in jobs + [r.job for r in self.ended])

    def _record_ended(self, force: bool = False) -> Stats:
        """Record the sends that ended, several to a transaction: once there
        are enough of them, once the first waited ``RECORD_WITHIN``, or when
        *force* says so."""
        for future in [future for future in self.in_flight if future.done()]:
            del self.in_flight[future]
            if not self.ended:
                self.first_ended = time.monotonic()
            self.ended.append(future.result())
        if not self.ended or not (
            force
            or not self.in_flight  # nothing will end soon
            or len(self.ended) >= self.settings.concurrency
            or time.monotonic() - self.first_ended >= RECORD_WITHIN
        ):
            return Stats()
        results, self.ended = self.ended, []
        return record(results, self.settings)

    def _dispatch(self) -> None:
        """Start sending what may be sent now, earliest claimed first."""
        sending = Counter(job.endpoint_id for job in self.in_flight.values())
        kept = []
        for job in self.waiting:
            if (
                len(self.in_flight) < self.settings.concurrency
                and sending[job.endpoint_id] < self.settings.per_endpoint
            ):
                future = self.pool.submit(_send, self.sender, self.settings, job)
                future.add_done_callback(lambda _: self.send_ended.set())
                self.in_flight[future] = job
                sending[job.endpoint_id] += 1
            else:
                kept.append(job)
        self.waiting = kept

    def _claim(self) -> None:
        held = self._held()
        room = self.settings.batch_size - sum(held.values())
        if room > 0 and len(self.in_flight) < self.settings.concurrency:
            self.waiting.extend(claim(self.settings, room, held))

    def step(self, look: bool = False) -> Stats:
        """Record the sends that ended, send what may be sent, and claim more
        if the worker is running short of work (or *look* says to)."""
        self.send_ended.clear()
        stats = self._record_ended(force=self.stop.is_set())
        if self.stop.is_set():
            # Start nothing more; what is held but unsent goes back at once.
            self._release_waiting()
            return stats
        self._dispatch()
        if look or len(self.waiting) < self._low:
            self._claim()
            self._dispatch()
        if not self.in_flight:  # nothing will end soon: record now
            stats.add(self._record_ended(force=True))
        return stats

    @property
    def _low(self) -> int:
        # Claim again once fewer are waiting than one endpoint may be sent at
        # once: one claim serves many sends, and the senders never run dry.
        return min(self.settings.per_endpoint, self.settings.batch_size)

    def run_until_idle(self) -> Stats:
        """Work until nothing is due (``webhooks worker --once``)."""
        total = Stats()
        while True:
            total.add(self.step())
            if not (self.in_flight or self.waiting or self.ended):
                return total
            wait(
                list(self.in_flight),
                timeout=RECORD_WITHIN if self.ended else None,
                return_when=FIRST_COMPLETED,
            )

    def run(self) -> Stats:
        """Work until :attr:`stop` is set and the sends in flight have ended,
        waking up on Redis, when a send ends, or by polling."""
        total = Stats()
        look = True
        while self.in_flight or self.ended or not self.stop.is_set():
            try:
                total.add(self.step(look))
                pause = self._idle_wait()
            except sa.exc.OperationalError as error:
                log.warning("webhook worker: database unavailable: %s", error)
                pause = self.settings.poll_interval
            if self.stop.is_set():
                # Draining: only the sends in flight matter now.
                wait(
                    list(self.in_flight),
                    timeout=self.settings.poll_interval,
                    return_when=FIRST_COMPLETED,
                )
                continue
            look = True
            if self.ended:
                pause = min(pause, RECORD_WITHIN)
            if pause > 0:
                message = self.wakeup.wait(pause, also=self.send_ended)
                # Woken only because a send ended: no need to look for work.
                look = message or not self.send_ended.is_set()
        return total

    def _release_waiting(self) -> None:
        """Give back the deliveries held but not sent (a stopping worker)."""
        if self.waiting:
            try:
                record(
                    [Result(job, utcnow(), None) for job in self.waiting], self.settings
                )
            except sa.exc.OperationalError as error:
                log.warning("webhook worker: database unavailable: %s", error)
            self.waiting = []

    def _idle_wait(self) -> float:
        if (
            len(self.in_flight) >= self.settings.concurrency
            or len(self.waiting) >= self._low
        ):
            return self.settings.poll_interval  # a send ending wakes it first
        full = {
            endpoint
            for endpoint, n in self._held().items()
            if n >= self.settings.held_per_endpoint
        }
        due = next_due(exclude=full)
        pause = self.settings.poll_interval
        if due is not None:
            pause = min(pause, (due - utcnow()).total_seconds())
        # Something due but not claimable (locked by a concurrent claim): do
        # not spin on it.
        return max(pause, 0.05)

"""The webhook worker: claim due deliveries, send them, record every attempt.

The worker keeps up to ``capacity`` deliveries in hand (``WEBHOOK_BATCH_SIZE``,
at most ``WEBHOOK_CONCURRENCY``) and no more than half of them for one endpoint.
As each send ends its result is recorded and the freed place is claimed again:
no batch waits for its slowest send, so a slow endpoint holds up nobody else,
and every attempt ends by its deadline (see :mod:`.delivery`).

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
            self.settings.capacity, thread_name_prefix="webhook-send"
        )
        self.wakeup = Wakeup(self.stop, channel(), "webhook worker")
        self.in_flight: dict[Future, Job] = {}
        # Set whenever a send ends: its place can be claimed again.
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

    def _busy(self) -> Counter:
        return Counter(job.endpoint_id for job in self.in_flight.values())

    def _record_ended(self) -> Stats:
        """Record the sends that ended, in one transaction."""
        ended = [future for future in self.in_flight if future.done()]
        for future in ended:
            del self.in_flight[future]
        if not ended:
            return Stats()
        return record([future.result() for future in ended], self.settings)

    def _claim_more(self) -> int:
        """Claim what fits in the free places and start sending it."""
        room = self.settings.capacity - len(self.in_flight)
        if room <= 0 or self.stop.is_set():
            return 0
        jobs = claim(self.settings, room, self._busy())
        for job in jobs:
            future = self.pool.submit(_send, self.sender, self.settings, job)
            self.in_flight[future] = job
            future.add_done_callback(lambda _: self.send_ended.set())
        return len(jobs)

    def step(self) -> Stats:
        """Record the sends that ended, then claim what fits."""
        self.send_ended.clear()
        stats = self._record_ended()
        self._claim_more()
        return stats

    def run_until_idle(self) -> Stats:
        """Work until nothing is due (``webhooks worker --once``)."""
        total = Stats()
        while True:
            total.add(self.step())
            if not self.in_flight:
                return total
            wait(list(self.in_flight), return_when=FIRST_COMPLETED)

    def run(self) -> Stats:
        """Work until :attr:`stop` is set and the sends in flight have ended,
        waking up on Redis, when a send ends, or by polling."""
        total = Stats()
        while self.in_flight or not self.stop.is_set():
            try:
                total.add(self.step())
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
            elif pause > 0:
                self.wakeup.wait(pause, also=self.send_ended)
        return total

    def _idle_wait(self) -> float:
        if len(self.in_flight) >= self.settings.capacity:
            return self.settings.poll_interval  # until a send ends
        full = {
            endpoint
            for endpoint, n in self._busy().items()
            if n >= self.settings.per_endpoint
        }
        due = next_due(exclude=full)
        pause = self.settings.poll_interval
        if due is not None:
            pause = min(pause, (due - utcnow()).total_seconds())
        # Something due but not claimable (locked by a concurrent claim): do
        # not spin on it.
        return max(pause, 0.05)

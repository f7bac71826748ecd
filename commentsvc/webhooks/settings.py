"""The worker's WEBHOOK_* settings, checked to work together."""

from dataclasses import dataclass, replace
from datetime import timedelta

# A claimed delivery is only sent if its lease outlives the attempt by this much.
LEASE_MARGIN = 1.0


def parse_retry_delays(raw) -> tuple[float, ...]:
    """Parse ``WEBHOOK_RETRY_DELAYS``: seconds, comma-separated (or a list).

    Raises:
        ValueError: a delay is not a finite number of seconds, or none is given.
    """
    items = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)
    delays = []
    for item in items:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise ValueError(f"{item!r} is not a number of seconds") from None
        if not 0 <= value < float("inf"):
            raise ValueError(f"{item!r} is not a number of seconds")
        delays.append(value)
    if not delays:
        raise ValueError("give at least one retry delay")
    return tuple(delays)


@dataclass(frozen=True)
class Settings:
    timeout: float  # connecting, and each wait for the answer
    deadline: float  # the whole attempt
    batch_size: int
    concurrency: int
    lease: timedelta
    poll_interval: float
    retry_delays: tuple[float, ...]

    @property
    def per_endpoint(self) -> int:
        """Sends in flight to one endpoint at most: half the concurrency,
        rounded up, so a slow endpoint leaves the other half to the others."""
        return (self.concurrency + 1) // 2

    @property
    def held_per_endpoint(self) -> int:
        """Deliveries of one endpoint a worker holds at most: half the batch,
        rounded up, so a slow endpoint's backlog never fills a worker's hands."""
        return (self.batch_size + 1) // 2

    @classmethod
    def from_config(cls, config, **overrides) -> "Settings":
        """Raises: ValueError: the lease is not longer than an attempt may last."""
        timeout = float(config["WEBHOOK_TIMEOUT"])
        settings = cls(
            timeout=timeout,
            deadline=float(config.get("WEBHOOK_ATTEMPT_DEADLINE") or timeout),
            batch_size=int(config["WEBHOOK_BATCH_SIZE"]),
            concurrency=int(config["WEBHOOK_CONCURRENCY"]),
            lease=timedelta(seconds=float(config["WEBHOOK_LEASE_SECONDS"])),
            poll_interval=float(config["WEBHOOK_POLL_INTERVAL"]),
            retry_delays=parse_retry_delays(config["WEBHOOK_RETRY_DELAYS"]),
        )
        settings = replace(
            settings, **{k: v for k, v in overrides.items() if v is not None}
        )
        if settings.lease.total_seconds() <= settings.deadline + LEASE_MARGIN:
            raise ValueError(
                "WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_ATTEMPT_DEADLINE "
                f"(by default WEBHOOK_TIMEOUT) + {LEASE_MARGIN:g} s, or no delivery "
                "could ever be sent"
            )
        return settings

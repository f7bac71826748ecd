"""The mail settings: where to send (``MAIL_URL``), from whom, and the worker's
claim, lease and retry numbers. Read at start-up; a bad value is a ConfigError."""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Transport:
    """How to reach the SMTP server (or ``console``: print the mail)."""

    scheme: str  # smtp, smtps or console
    host: str = ""
    port: int = 0
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    def __repr__(self) -> str:  # never the password in a log
        return f"<Transport {self.scheme}://{self.host}:{self.port}>"


def parse_mail_url(url: str) -> Transport:
    """``smtp://user:password@host:587?starttls=1``, ``smtps://…``,
    ``smtp://host:25`` or ``console:``.

    Raises:
        ValueError: anything else, with what is wrong.
    """
    url = (url or "").strip()
    if url in ("console:", "console://"):
        return Transport("console")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"not a mail URL ({error})") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(
            "must be smtp://[user:password@]host[:port][?starttls=1], "
            "smtps://… or console:"
        )
    if not parts.hostname:
        raise ValueError("the mail URL names no host")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ValueError(f"unknown mail URL option(s): {', '.join(sorted(unknown))}")
    starttls = False
    if "starttls" in query:
        value = query["starttls"][-1].strip().lower()
        if value not in _TRUE | _FALSE:
            raise ValueError("starttls must be 1 or 0")
        starttls = value in _TRUE
    if starttls and parts.scheme == "smtps":
        raise ValueError("smtps is TLS from the start: starttls does not apply")
    default_port = 465 if parts.scheme == "smtps" else 25
    return Transport(
        parts.scheme,
        parts.hostname,
        port or default_port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password is not None else None,
        starttls,
    )


def parse_retry_delays(raw: str) -> tuple[float, ...]:
    """``60,300,1800``: seconds before each retry.

    Raises:
        ValueError: not a comma-separated list of positive numbers.
    """
    try:
        delays = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError("must be seconds separated by commas") from None
    if not delays or any(not 0 < d < 10 * 86400 for d in delays):
        raise ValueError("each delay must be above 0 and under 10 days")
    return delays


@dataclass(frozen=True)
class Settings:
    transport: Transport
    sender: str
    timeout: float
    lease: timedelta
    batch_size: int
    poll_interval: float
    retry_delays: tuple[float, ...]

    @classmethod
    def from_config(cls, config, **overrides) -> "Settings":
        """Raises: ValueError: mail is not configured (no MAIL_URL)."""
        if not config.get("MAIL_URL"):
            raise ValueError("mail is not configured: set COMMENTSVC_MAIL_URL")
        values = {
            "transport": parse_mail_url(config["MAIL_URL"]),
            "sender": config["MAIL_FROM"],
            "timeout": float(config["MAIL_TIMEOUT"]),
            "lease": timedelta(seconds=config["MAIL_LEASE_SECONDS"]),
            "batch_size": int(config["MAIL_BATCH_SIZE"]),
            "poll_interval": float(config["MAIL_POLL_INTERVAL"]),
            "retry_delays": parse_retry_delays(config["MAIL_RETRY_DELAYS"]),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

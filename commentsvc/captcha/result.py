"""What a captcha check concluded, and the errors that refuse a post."""

import enum
from dataclasses import asdict, dataclass, field

# The action our embed names when it asks for a token (v3, Turnstile).
ACTION = "comment"


class Outcome(enum.StrEnum):
    OK = "ok"
    EXPIRED = "expired"  # expired or already used: the embed gets a fresh one
    INVALID = "invalid"
    LOW_SCORE = "low_score"
    UNAVAILABLE = "unavailable"  # unreachable, timed out, 5xx or garbage
    MISCONFIGURED = "misconfigured"  # our secret is wrong or missing
    NOT_REQUIRED = "not_required"  # the site has no captcha


@dataclass
class CaptchaResult:
    """One verification, kept in the comment's signals for moderators."""

    provider: str
    outcome: Outcome
    success: bool | None = None
    score: float | None = None
    action: str | None = None
    hostname: str | None = None
    error_codes: list[str] = field(default_factory=list)
    latency_ms: int | None = None
    detail: str | None = None

    def as_signal(self) -> dict:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return {k: v for k, v in data.items() if v not in (None, [])}


class CaptchaRefused(Exception):
    """The post is refused (403) and nothing is stored."""

    code = "captcha_invalid"

    def __init__(self, result: CaptchaResult):
        super().__init__(result.detail or result.outcome.value)
        self.result = result


class CaptchaExpired(CaptchaRefused):
    """The token expired or was used before: the embed fetches a fresh one."""

    code = "captcha_expired"


class CaptchaInvalid(CaptchaRefused):
    """A bad token, a hostname or action mismatch, or no token at all."""

    code = "captcha_invalid"

"""A submission's verdict: the status it gets and the reasons beside it."""

from dataclasses import dataclass, field

from ..models import CommentStatus


@dataclass
class Verdict:
    """The status a new comment gets and the signals that explain it.

    Spam is stored, never discarded: moderators can rescue it from the Spam tab.
    "Held" reasons keep a comment pending even where the site would publish it
    at once.
    """

    status: CommentStatus = CommentStatus.PENDING
    signals: dict = field(default_factory=dict)

    def spam(self, signal: str, value=True) -> None:
        self.status = CommentStatus.SPAM
        self.signals[signal] = value

    def hold(self, reason: str, value=True) -> None:
        self.signals.setdefault("held", {})[reason] = value

    @property
    def held(self) -> bool:
        return bool(self.signals.get("held"))

    @property
    def is_spam(self) -> bool:
        return self.status == CommentStatus.SPAM

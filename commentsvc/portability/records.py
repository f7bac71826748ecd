"""What parsers yield (threads, comments, what was skipped) and the summary of
an import."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from ..models import CommentStatus


@dataclass(frozen=True)
class ThreadIn:
    """A thread as a source describes it."""

    key: str
    url: str
    title: str | None = None
    # Our own format says it; other sources leave it to the first comment.
    created_at: datetime | None = None
    comments_open: bool | None = None


@dataclass
class CommentIn:
    """A comment as a source describes it; ``body`` in our text form."""

    key: str  # the import_key: "wordpress:123"
    thread: ThreadIn
    parent_key: str | None
    author: str
    body: str
    status: CommentStatus
    created_at: datetime
    email: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    # The title the comment offered: a thread shows its latest approved
    # comment's (see comments.threads), so foreign sources give the thread's.
    page_title: str | None = None
    moderated_at: datetime | None = None
    # Set when its author edited it (commentsvc.comments.edits).
    edited_at: datetime | None = None
    signals: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """Something of the file not imported, and why."""

    reason: str


# What the API's input rules refused (commentsvc.inputrules), field by field:
# the comment is kept without the field.
REFUSED_LINK = "thread links that are not http(s), dropped"
REFUSED_NAME = "names the API refuses, imported as Anonymous"
REFUSED_EMAIL = "addresses the API refuses, dropped"
REFUSED_TITLE = "titles with control characters, dropped"


@dataclass
class Summary:
    threads_new: int = 0
    threads_touched: int = 0
    comments: Counter = field(default_factory=Counter)  # by status
    skipped: Counter = field(default_factory=Counter)  # by reason
    # Replies whose parent is missing (not in the file, skipped, in another
    # thread, or in a loop of replies): imported as top-level comments.
    orphans: int = 0
    # Values the API's input rules refuse, by what became of them.
    refused: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        total = sum(self.comments.values())
        out = [
            f"threads: {self.threads_touched} ({self.threads_new} new)",
            f"comments imported: {total}"
            + "".join(
                f", {s.value} {self.comments[s]}"
                for s in CommentStatus
                if self.comments[s]
            ),  # fmt: skip
        ]
        if self.orphans:
            out.append(
                f"replies whose parent is missing, kept as top-level comments: "
                f"{self.orphans}"
            )
        for what, count in sorted(self.refused.items()):
            out.append(f"{what}: {count}")
        for reason, count in sorted(self.skipped.items()):
            out.append(f"skipped: {count} {reason}")
        return out

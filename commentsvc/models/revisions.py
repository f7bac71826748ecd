"""Revisions: an author's edit of a published comment, waiting for a moderator.

Readers keep the approved text until a moderator approves the revision (see
commentsvc.comments.revisions).
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import JSONType, _enum, utcnow
from .content import Comment, Moderator


class RevisionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CommentRevision(db.Model):
    """A new text for a published comment, proposed by its author. At most one
    per comment is pending: a second edit replaces its text (and its version,
    so a moderator never approves words they did not see)."""

    __tablename__ = "comment_revisions"
    __table_args__ = (
        # The queue: a comment's pending revision, the pending ones of many.
        sa.Index("ix_comment_revisions_comment_status", "comment_id", "status"),
        sa.Index("ix_comment_revisions_status_site", "status", "site_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE")
    )
    body: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    # What the spam rules said of this text (moderators see it).
    signals: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[RevisionStatus] = mapped_column(
        _enum(RevisionStatus, "revision_status"), default=RevisionStatus.PENDING
    )
    # Bumped when a later edit replaces the text: decisions compare it.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id", ondelete="SET NULL")
    )

    comment: Mapped[Comment] = relationship()
    decided_by: Mapped[Moderator | None] = relationship()

    def __repr__(self) -> str:
        return f"<CommentRevision {self.id} of {self.comment_id} {self.status}>"

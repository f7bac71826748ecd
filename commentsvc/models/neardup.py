"""Near-duplicate signatures: a MinHash signature per comment and its LSH band
keys (commentsvc/spam/neardup.py), so that the spam rules find comments with
nearly the same words through an index, across processes and sites."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class CommentSignature(db.Model):
    """A comment's MinHash signature (little-endian uint32 values), to estimate
    the similarity of the candidates its band keys find."""

    __tablename__ = "comment_signatures"

    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    # No foreign key (the comment's goes with its site): one check less per
    # post.
    site_id: Mapped[int] = mapped_column()
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )


class CommentBand(db.Model):
    """One LSH band key of a comment's signature: comments sharing a key are
    candidate near-duplicates."""

    __tablename__ = "comment_bands"
    __table_args__ = (sa.Index("ix_comment_bands_band_key", "band_key"),)

    # The primary key leads with the comment: deleting a comment (ON DELETE
    # CASCADE) finds its rows through it.
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    band_key: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    # No foreign key (the comment's goes with its site): a post writes 16 rows.
    site_id: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )

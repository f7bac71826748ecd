"""Near-duplicate signatures: the LSH band keys of each comment's MinHash
signature, and the signature itself (commentsvc/spam/neardup.py), so that the
spam rules find comments with nearly the same words through an index, across
processes and sites."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class CommentBand(db.Model):
    """One band of a comment's signature: comments sharing a band key are
    candidate near-duplicates. Band 0 also carries the whole signature
    (little-endian uint32 values), to estimate the candidates' similarity: one
    table, so a post writes its rows in one statement."""

    __tablename__ = "comment_bands"
    __table_args__ = (sa.Index("ix_comment_bands_band_key", "band_key"),)

    # The primary key leads with the comment: deleting a comment (ON DELETE
    # CASCADE) finds its rows through it, and the candidates' signatures too.
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    band: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    band_key: Mapped[int] = mapped_column(sa.BigInteger)
    # No foreign key (the comment's goes with its site): a post writes 16 rows.
    site_id: Mapped[int] = mapped_column()
    signature: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )

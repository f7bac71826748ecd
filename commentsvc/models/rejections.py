"""A site's learned reject model (commentsvc.rejections): numbers only, rebuilt
by the spam filter's worker from the site's approve and reject decisions."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class RejectModel(db.Model):
    __tablename__ = "reject_models"

    site_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    # Bumped on every training.
    version: Mapped[int] = mapped_column(default=1)
    # LinearModel.to_bytes(): NumPy arrays written with allow_pickle=False.
    state: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The newest moderation event the model has learned from.
    trained_through: Mapped[int] = mapped_column(default=0)
    examples: Mapped[int] = mapped_column(default=0)
    rejected_examples: Mapped[int] = mapped_column(default=0)
    trained_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )

"""The audit trail of everything that is not a comment's status change (those
are ``ModerationEvent`` rows): bans, site settings, accounts, webhook endpoints
and mail settings. Written by ``commentsvc.audit.record`` only."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import JSONType, utcnow
from .content import Moderator, Site


class AuditEntry(db.Model):
    """One change made by a moderator, the command line or the system."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        # The audit page: newest first, all sites or one.
        sa.Index("ix_audit_entries_created", "created_at", "id"),
        sa.Index("ix_audit_entries_site_created", "site_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    # None: the command line (or the system).
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id", ondelete="SET NULL")
    )
    # None for what belongs to no site (accounts): only admins see those.
    site_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sites.id", ondelete="SET NULL")
    )
    # One of commentsvc.audit.KINDS (ban.added, site.settings, ...).
    kind: Mapped[str] = mapped_column(sa.String(40))
    # What the entry names: site, moderator, ban or webhook_endpoint, its id,
    # and a label that outlives it (a lifted ban is gone).
    target_type: Mapped[str] = mapped_column(sa.String(24))
    target_id: Mapped[int | None] = mapped_column()
    target_label: Mapped[str] = mapped_column(sa.String(300), default="")
    # The comment a ban was made from.
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    # {field: [old, new]}; a secret's value never: {field: "changed"}.
    changes: Mapped[dict] = mapped_column(JSONType, default=dict)

    moderator: Mapped[Moderator | None] = relationship()
    site: Mapped[Site | None] = relationship()

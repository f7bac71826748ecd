"""SQLAlchemy models: sites, threads, comments, moderators and the audit trail.

The same models run on SQLite and PostgreSQL; migrations live in ``migrations/``.
"""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Return *value* as an aware UTC datetime (SQLite hands back naive ones)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class CommentStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"
    DELETED = "deleted"


class Role(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"


class CaptchaProvider(enum.StrEnum):
    NONE = "none"
    DEV = "dev"
    RECAPTCHA_V2 = "recaptcha_v2"
    RECAPTCHA_V3 = "recaptcha_v3"
    HCAPTCHA = "hcaptcha"
    TURNSTILE = "turnstile"


class ModerationPolicy(enum.StrEnum):
    HOLD_ALL = "hold_all"
    TRUST_APPROVED_AUTHORS = "trust_approved_authors"


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


moderator_sites = sa.Table(
    "moderator_sites",
    db.metadata,
    sa.Column(
        "moderator_id",
        sa.ForeignKey("moderators.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "site_id", sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Site(db.Model):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Origins (scheme://host[:port]) allowed to embed the site and call its API.
    allowed_origins: Mapped[list] = mapped_column(JSONType, default=list)
    captcha_provider: Mapped[CaptchaProvider] = mapped_column(
        _enum(CaptchaProvider, "captcha_provider"), default=CaptchaProvider.NONE
    )
    captcha_site_key: Mapped[str | None] = mapped_column(sa.String(200))
    # Write-only: never shown in pages, logs or API responses once set.
    captcha_secret: Mapped[str | None] = mapped_column(sa.String(200))
    captcha_score_threshold: Mapped[float] = mapped_column(default=0.5)
    require_email: Mapped[bool] = mapped_column(default=False)
    moderation_policy: Mapped[ModerationPolicy] = mapped_column(
        _enum(ModerationPolicy, "moderation_policy"), default=ModerationPolicy.HOLD_ALL
    )
    trusted_author_min_approved: Mapped[int] = mapped_column(default=1)
    max_length: Mapped[int] = mapped_column(default=5000)
    # Flask-Limiter syntax ("5/minute;30/hour"); None means the global default.
    post_rate_limit: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )

    threads: Mapped[list["Thread"]] = relationship(back_populates="site")

    def __repr__(self) -> str:
        return f"<Site {self.slug}>"


class Thread(db.Model):
    __tablename__ = "threads"
    __table_args__ = (sa.UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    # The page's identifier: data-commentsvc-thread, or the page's canonical path.
    key: Mapped[str] = mapped_column(sa.String(512))
    url: Mapped[str] = mapped_column(sa.String(2048))
    title: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )

    site: Mapped[Site] = relationship(back_populates="threads")

    def __repr__(self) -> str:
        return f"<Thread {self.site_id}:{self.key}>"


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        # The public read: a thread's approved comments, oldest first.
        sa.Index(
            "ix_comments_thread_status_created",
            "thread_id",
            "status",
            "created_at",
            "id",
        ),
        # The moderation queue: a site's comments of one status, oldest first.
        sa.Index(
            "ix_comments_site_status_created", "site_id", "status", "created_at", "id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the thread so the per-site queue needs no join.
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("threads.id", ondelete="CASCADE")
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    author: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    # Safe HTML, rendered once when the comment is stored.
    body_html: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "comment_status"), default=CommentStatus.PENDING
    )
    # Erased after the retention period; nullable for that reason.
    ip: Mapped[str | None] = mapped_column(sa.String(45), index=True)
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    # Why it was held, the captcha result, spam rules that fired...
    signals: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    moderated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    moderated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id", ondelete="SET NULL")
    )
    # Bumped on every status change; conditional updates compare it.
    version: Mapped[int] = mapped_column(default=1)

    thread: Mapped[Thread] = relationship()
    site: Mapped[Site] = relationship()
    parent: Mapped["Comment | None"] = relationship(remote_side=[id])
    moderated_by: Mapped["Moderator | None"] = relationship()

    def __repr__(self) -> str:
        return f"<Comment {self.id} {self.status}>"


class Moderator(db.Model):
    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(
        _enum(Role, "moderator_role"), default=Role.MODERATOR
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )

    sites: Mapped[list[Site]] = relationship(secondary=moderator_sites)

    # Flask-Login's user interface.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def __repr__(self) -> str:
        return f"<Moderator {self.username}>"


class ModerationEvent(db.Model):
    """One status change of a comment: the audit trail."""

    __tablename__ = "moderation_events"
    __table_args__ = (
        sa.Index("ix_moderation_events_site_created", "site_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    # None for decisions taken by the system (spam rules, CLI).
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id", ondelete="SET NULL")
    )
    from_status: Mapped[CommentStatus | None] = mapped_column(
        _enum(CommentStatus, "event_from_status")
    )
    to_status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "event_to_status")
    )
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )

    comment: Mapped[Comment] = relationship()
    moderator: Mapped[Moderator | None] = relationship()

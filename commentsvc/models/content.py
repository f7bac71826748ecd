"""Sites, threads, comments, moderators, the audit trail, bans and spam models."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import (
    REJECT_THRESHOLD,
    BanKind,
    CaptchaProvider,
    CommentStatus,
    JSONType,
    ModerationPolicy,
    Role,
    _enum,
    utcnow,
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
    # Spam rules (see commentsvc/spam): links allowed before a comment is held,
    # word lists (one entry per line), the fastest believable form fill.
    max_links: Mapped[int] = mapped_column(default=2)
    blocked_words: Mapped[str] = mapped_column(sa.Text, default="")
    watch_words: Mapped[str] = mapped_column(sa.Text, default="")
    min_submit_seconds: Mapped[int] = mapped_column(default=3)
    # Write-only, like the captcha secret; None means Akismet is off.
    akismet_key: Mapped[str | None] = mapped_column(sa.String(200))
    # The learning filter (commentsvc/learning): a spam probability at or above
    # spam_threshold stores the comment as spam, at or above spam_hold_threshold
    # holds it ("looks like spam"). None is automatic: SPAM_THRESHOLD (or the
    # higher floor the site's model learned) and SPAM_HOLD_THRESHOLD, or the
    # starter model's own thresholds while the site has no model.
    spam_filter_enabled: Mapped[bool] = mapped_column(
        default=True, server_default=sa.true()
    )
    spam_threshold: Mapped[float | None] = mapped_column()
    spam_hold_threshold: Mapped[float | None] = mapped_column()
    # "Likely to be rejected" at or above reject_threshold: commentsvc.rejections.
    reject_threshold: Mapped[float] = mapped_column(
        default=REJECT_THRESHOLD, server_default=str(REJECT_THRESHOLD)
    )
    reject_hold_trusted: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    reject_nudge: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Threads stop taking comments this many days after their first comment
    # (a thread's created_at); None: never by age.
    close_after_days: Mapped[int | None] = mapped_column()
    # Readers subscribed to a thread also hear when their own comment is
    # approved (replies to it they always hear about).
    mail_own_approval: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    # Reader features (docs/embed.md): reports from this many distinct readers
    # send a published comment back to Pending; seconds an author may edit or
    # delete their comment (0: never); the listing's default order ("oldest"
    # or "newest"); reply levels shown nested.
    report_threshold: Mapped[int] = mapped_column(default=3, server_default="3")
    edit_window_seconds: Mapped[int] = mapped_column(default=300, server_default="300")
    default_sort: Mapped[str] = mapped_column(
        sa.String(8), default="oldest", server_default="oldest"
    )
    max_reply_depth: Mapped[int] = mapped_column(default=4, server_default="4")
    # Near-duplicate spam signals shared with the other sites that opted in.
    share_spam_signals: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
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
    # A moderator's choice: True open, False closed; None follows the site's
    # close_after_days.
    comments_open: Mapped[bool | None] = mapped_column()
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
        # The queue across every site (admins), oldest first.
        sa.Index("ix_comments_status_created", "status", "created_at", "id"),
        # Listing pages: a thread's top-level comments in order (root_id NULL),
        # then the replies under each of them.
        sa.Index(
            "ix_comments_thread_root_created",
            "thread_id",
            "root_id",
            "created_at",
            "id",
        ),
        sa.Index("ix_comments_root_created", "root_id", "created_at", "id"),
        # Repeated bodies (spam rules): a site's comments with one body, by time.
        sa.Index(
            "ix_comments_site_body_hash_created", "site_id", "body_hash", "created_at"
        ),
        # Imports: the source's id of an imported comment, once per site.
        sa.Index("ix_comments_site_import_key", "site_id", "import_key", unique=True),
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
    # The top-level comment a reply hangs under (None for a top-level comment):
    # pages go by top-level comments, each with its replies. No foreign key
    # (see migration 0006): the purge clears the roots it deletes.
    root_id: Mapped[int | None] = mapped_column()
    author: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    # A digest of the body, so the spam rules find repeats through an index.
    body_hash: Mapped[str | None] = mapped_column(sa.String(32))
    # The page title this post offered; the thread shows the title offered by
    # its latest approved comment, so the first poster cannot claim it.
    page_title: Mapped[str | None] = mapped_column(sa.String(300))
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
    # Where an imported comment came from ("wordpress:123"); None when posted here.
    import_key: Mapped[str | None] = mapped_column(sa.String(200))
    # The hash of the secret its author's browser keeps to edit or delete it
    # within the site's edit window (the secret itself is never stored).
    edit_token_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # When its author last edited it ("(edited)" in the listing).
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # What a moderator last decided, and on which words: the learning filter's
    # label (an author's later edit is no decision).
    decided_status: Mapped[CommentStatus | None] = mapped_column(
        _enum(CommentStatus, "decided_status")
    )
    decided_body: Mapped[str | None] = mapped_column(sa.Text)
    # Bumped on every status change; conditional updates compare it.
    version: Mapped[int] = mapped_column(default=1)
    # The signed-in reader who wrote it (None: a guest, or an erased account),
    # and "staff" on a staff account's comments, denormalised for the listing.
    # No foreign key (as root_id, migration 0016): SQLite cannot add one in
    # place; erasing an account clears it (accounts.erase).
    account_id: Mapped[int | None] = mapped_column(index=True)
    badge: Mapped[str | None] = mapped_column(sa.String(16))

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
    # Part of every session's identity: raising it ends all of this moderator's
    # sessions (logout, password change, deactivation).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
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
        # The generation makes every session (and copy of its cookie) die when
        # it is raised; see moderation.accounts.load_moderator.
        return f"{self.id}:{self.session_generation}"

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
        # The audit trail of all sites (an admin's) pages by time.
        sa.Index("ix_moderation_events_created", "created_at", "id"),
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


class CommentReport(db.Model):
    """A reader's report of a published comment: one per reader and comment
    (commentsvc.comments.reporters says who counts as a reader)."""

    __tablename__ = "comment_reports"
    __table_args__ = (
        sa.Index(
            "ix_comment_reports_comment_reader",
            "comment_id",
            "reader_hash",
            unique=True,
        ),
        # A network's reports in the last hour (the captcha rule).
        sa.Index("ix_comment_reports_ip_created", "ip_hash", "created_at"),
        # The Reported tab: open reports, by site.
        sa.Index("ix_comment_reports_site_open", "site_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE")
    )
    # spam, abuse, off_topic, illegal (commentsvc.comments.reports.REASONS).
    reason: Mapped[str] = mapped_column(sa.String(16))
    # Required for "illegal" (a DSA notice says why); optional otherwise.
    explanation: Mapped[str | None] = mapped_column(sa.Text)
    # Keyed hashes, never the address or token themselves: the reporter's
    # network (IPv4 address, IPv6 /48), browser token, and who counts as one
    # reader (the token, or the network for a report without one).
    ip_hash: Mapped[str] = mapped_column(sa.String(64))
    token_hash: Mapped[str | None] = mapped_column(sa.String(64))
    reader_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    # Set when a moderator decides on the comment or dismisses its reports.
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id", ondelete="SET NULL")
    )


class Ban(db.Model):
    """A banned email, IP or network on a site: its new comments go to spam."""

    __tablename__ = "bans"
    __table_args__ = (sa.Index("ix_bans_site_kind_value", "site_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[BanKind] = mapped_column(_enum(BanKind, "ban_kind"))
    # Lowercased email, an address, or a network in CIDR form.
    value: Mapped[str] = mapped_column(sa.String(254))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    created_by: Mapped["Moderator | None"] = relationship()


class SpamModel(db.Model):
    """A site's learned spam model: numbers only (commentsvc.learning.model),
    rebuilt by the worker from the site's moderation decisions."""

    __tablename__ = "spam_models"

    site_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    # Bumped on every training; app processes cache the model by it.
    version: Mapped[int] = mapped_column(default=1)
    # LinearModel.to_bytes(): NumPy arrays written with allow_pickle=False.
    state: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The newest moderation event the model has learned from.
    trained_through: Mapped[int] = mapped_column(default=0)
    examples: Mapped[int] = mapped_column(default=0)
    spam_examples: Mapped[int] = mapped_column(default=0)
    # The lowest "store as spam" probability that its own out-of-fold scores
    # allow (at most 0.5 % of the site's real comments above it); None when too
    # few decisions to tell.
    spam_floor: Mapped[float | None] = mapped_column()
    # Out-of-fold figures of the last training (shown by `spam report`).
    figures: Mapped[dict] = mapped_column(JSONType, default=dict)
    trained_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )

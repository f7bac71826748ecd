"""Readers who sign in (commentsvc.accounts): their accounts, their sessions,
the one-time links of e-mail sign-in, and each site's sign-in settings."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow

# How a reader signed in: the site's own token (sso), a link by e-mail, an
# OpenID Connect provider, or a moderator answering as staff from the queue.
PROVIDERS = ("sso", "email", "oidc", "staff")


class Account(db.Model):
    """A reader known to one site. The same person on two sites is two accounts:
    sites share nothing about their readers."""

    __tablename__ = "accounts"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "provider", "subject"),
        sa.Index("ix_accounts_site_email", "site_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(sa.String(16))
    # Who the provider says this is: the site's user id (sso), the lowercased
    # address (email), the issuer's "sub" (oidc), the moderator's id (staff).
    subject: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    avatar_url: Mapped[str | None] = mapped_column(sa.String(2048))
    # Staff comments carry a badge; a moderator's own staff account links back.
    staff: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id", ondelete="SET NULL")
    )
    # A suspension ends by itself; the reason is shown to the reader.
    suspended_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    suspension_reason: Mapped[str | None] = mapped_column(sa.String(500))
    banned: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    ban_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.provider}:{self.subject}>"


class ReaderSession(db.Model):
    """A signed-in browser: only the hash of its bearer token is kept."""

    __tablename__ = "reader_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)


class SignInLink(db.Model):
    """A one-time e-mail sign-in link: only the hash of its token is kept."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str | None] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The article page the reader comes back to (an origin the site allows).
    return_url: Mapped[str] = mapped_column(sa.String(2048))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class SiteSignIn(db.Model):
    """How readers of one site sign in, and how much their accounts are trusted.
    A site without a row has the defaults: guests only."""

    __tablename__ = "site_sign_in"

    site_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    guests_allowed: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # The site's own accounts: a JWT its pages sign (docs/sso.md).
    sso_secret: Mapped[str | None] = mapped_column(sa.String(200))
    sso_algorithm: Mapped[str] = mapped_column(
        sa.String(8), default="HS256", server_default="HS256"
    )
    sso_public_key: Mapped[str | None] = mapped_column(sa.Text)
    sso_skip_captcha: Mapped[bool] = mapped_column(
        default=True, server_default=sa.true()
    )
    email_sign_in: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    oidc_issuer: Mapped[str | None] = mapped_column(sa.String(500))
    oidc_client_id: Mapped[str | None] = mapped_column(sa.String(200))
    oidc_client_secret: Mapped[str | None] = mapped_column(sa.String(500))
    # The button's words: "Sign in with <label>".
    oidc_label: Mapped[str | None] = mapped_column(sa.String(60))
    # Coral's rules: a new account is held until this many of its comments
    # were approved; an account whose recent decided comments were rejected
    # more than this share of the time is held again.
    new_account_min_approved: Mapped[int] = mapped_column(default=2, server_default="2")
    rejected_hold_ratio: Mapped[float] = mapped_column(
        default=0.3, server_default="0.3"
    )

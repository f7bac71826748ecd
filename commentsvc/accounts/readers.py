"""Who is posting: a guest, the site's own user (a token), or a signed-in
reader (a session); and whether they may post at all."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Account, as_utc, utcnow
from . import sessions, sso
from .errors import (
    AccountBanned,
    AccountSuspended,
    SessionInvalid,
    SignInRequired,
)
from .settings import sign_in_settings


@dataclass(frozen=True)
class Reader:
    """A signed-in reader as a post needs them."""

    account_id: int
    name: str
    email: str | None
    avatar: str | None
    provider: str
    staff: bool
    # The site lets its own signed-in users post without a captcha.
    skip_captcha: bool


def find_or_create(
    site_id: int,
    provider: str,
    subject: str,
    name: str,
    email: str | None = None,
    avatar: str | None = None,
) -> Account:
    """The account *provider* knows as *subject* on the site, created on first
    sight; its name, address and picture follow what the provider says now.
    In the caller's transaction (flushed, so the id is set).

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    account = db.session.execute(
        sa.select(Account).where(
            Account.site_id == site_id,
            Account.provider == provider,
            Account.subject == subject,
        )
    ).scalar_one_or_none()
    if account is None:
        account = Account(
            site_id=site_id, provider=provider, subject=subject, name=name
        )
        db.session.add(account)
    account.name = name
    account.email = email
    account.avatar_url = avatar
    account.last_seen_at = utcnow()
    db.session.flush()
    return account


def suspended_until(account: Account) -> datetime | None:
    """The end of the account's suspension, or None if it is not suspended
    now (one that ended is no suspension): the one rule, for posts and pages."""
    until = as_utc(account.suspended_until)
    return until if until and until > utcnow() else None


def check_standing(account: Account) -> None:
    """Refuse an account a moderator banned or suspended (until its end).

    Raises:
        AccountBanned, AccountSuspended.
    """
    if account.banned:
        raise AccountBanned(account.ban_reason)
    until = suspended_until(account)
    if until is not None:
        raise AccountSuspended(until, account.suspension_reason)


def _sso_account(site, settings, token: str) -> Account:
    """The account the site's *token* names, created or updated (flushed).

    Raises:
        SsoInvalid, SsoExpired: see sso.verify.
    """
    claims = sso.verify(settings, site.slug, token)
    fields = (claims["sub"], claims["name"], claims["email"], claims["avatar"])
    try:
        return find_or_create(site.id, "sso", *fields)
    except sa.exc.IntegrityError:
        # Two first requests of one new user at once: the other created it.
        db.session.rollback()
        return find_or_create(site.id, "sso", *fields)


def is_site_token(bearer: str) -> bool:
    """A bearer that is a JWT (three dot-separated parts) is the site's own
    token; sessions are random URL-safe text without dots."""
    return bearer.count(".") == 2


def account_of(site, bearer: str | None) -> Account | None:
    """The account behind ``Authorization: Bearer`` on the reader's own
    endpoints: a session, or the site's own token (SSO readers have no
    session: the site's page signs them in each time). Commits. A suspended
    or banned account is returned: it may still see, download and delete its
    data. None when the session is unknown, ended or of another site.

    Raises:
        SsoInvalid, SsoExpired: a site token that is refused.
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    if not bearer:
        return None
    if is_site_token(bearer):
        account = _sso_account(site, sign_in_settings(site.id, site.slug), bearer)
    else:
        account = sessions.resolve(bearer)
        if account is not None and account.site_id != site.id:
            account = None
    db.session.commit()
    return account


def reader_for_post(site, sso_token: str | None, bearer: str | None) -> Reader | None:
    """The reader behind a post: from the site's token (*sso_token*, created
    or updated on first sight), else from a session (*bearer*), else None for a
    guest. Ends the read transaction it opens.

    Raises:
        SsoInvalid, SsoExpired: the site's token was refused.
        SessionInvalid: the session is unknown, ended or expired.
        SignInRequired: a guest, on a site that takes no guests.
        AccountBanned, AccountSuspended: the account may not post now.
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    settings = sign_in_settings(site.id, site.slug)
    if sso_token is not None:
        account = _sso_account(site, settings, sso_token)
    elif bearer:
        account = sessions.resolve(bearer)
        if account is None or account.site_id != site.id:
            db.session.commit()
            raise SessionInvalid()
    else:
        if not settings.guests_allowed:
            raise SignInRequired()
        return None
    reader = Reader(
        account_id=account.id,
        name=account.name,
        email=account.email,
        avatar=account.avatar_url,
        provider=account.provider,
        staff=account.staff,
        # The site's setting covers every signed-in reader: each proved who
        # they are to the site, to their mailbox or to their provider.
        skip_captcha=bool(settings.sso_skip_captcha),
    )
    try:
        check_standing(account)
    finally:
        db.session.commit()
    return reader

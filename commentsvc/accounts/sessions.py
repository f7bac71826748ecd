"""Signed-in browsers: a random bearer token each, of which only a hash is
kept, so a stolen database signs no one in."""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Account, ReaderSession, utcnow

# A reader stays signed in this long in one browser, unless they sign out.
LIFETIME = timedelta(days=30)
# Tokens are token_urlsafe(32): 43 characters. Longer input is not looked up.
MAX_TOKEN_LENGTH = 100


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(account_id: int) -> str:
    """A new session of *account_id*, in the caller's transaction; returns
    its bearer token (shown once: only the hash is stored).

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        ReaderSession(
            account_id=account_id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    return token


def resolve(token: str | None) -> Account | None:
    """The account a bearer *token* signs in, or None if it is unknown, ended
    or expired. A banned or suspended account is still returned: the caller
    says why it may not comment.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    return db.session.execute(
        sa.select(Account)
        .join(ReaderSession, ReaderSession.account_id == Account.id)
        .where(
            ReaderSession.token_hash == token_hash(token),
            ReaderSession.expires_at > utcnow(),
        )
    ).scalar_one_or_none()


def end(token: str) -> bool:
    """Sign one browser out, in the caller's transaction; False if it was not
    signed in."""
    result = db.session.execute(
        sa.delete(ReaderSession).where(ReaderSession.token_hash == token_hash(token))
    )
    return result.rowcount > 0


def end_all(account_id: int) -> None:
    """Sign the account out everywhere (a ban, an erasure), in the caller's
    transaction."""
    db.session.execute(
        sa.delete(ReaderSession).where(ReaderSession.account_id == account_id)
    )


def purge_expired() -> int:
    """Forget sessions past their expiry; returns how many."""
    result = db.session.execute(
        sa.delete(ReaderSession).where(ReaderSession.expires_at <= utcnow())
    )
    db.session.commit()
    return result.rowcount

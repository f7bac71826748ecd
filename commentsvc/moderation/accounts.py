"""Moderator accounts and their argon2 password hashes."""

import contextlib
import functools

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from ..comments.errors import ValidationFailed
from ..extensions import db
from ..models import Moderator, Role, Site

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(moderator: Moderator, password: str) -> bool:
    """True if *password* is the moderator's; rehashes when parameters changed."""
    try:
        _hasher.verify(moderator.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(moderator.password_hash):
        moderator.password_hash = hash_password(password)
        db.session.commit()
    return True


@functools.cache
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so that a wrong username
    # costs as long as a wrong password and timing tells nothing.
    return _hasher.hash("not a real password")


def authenticate(username: str, password: str) -> Moderator | None:
    """Return the active moderator with these credentials, or None."""
    moderator = db.session.scalar(
        sa.select(Moderator).where(Moderator.username == (username or "").strip())
    )
    if moderator is None or not moderator.active:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_dummy_hash(), password or "")
        return None
    return moderator if verify_password(moderator, password or "") else None


def load_moderator(moderator_id: str) -> Moderator | None:
    """Flask-Login's user loader: an active moderator by id, or None."""
    try:
        moderator = db.session.get(Moderator, int(moderator_id))
    except (TypeError, ValueError):
        return None
    return moderator if moderator is not None and moderator.active else None


def create_moderator(
    username: str,
    password: str,
    role: Role = Role.MODERATOR,
    site_slugs: list[str] | None = None,
    email: str | None = None,
) -> Moderator:
    """Create a moderator (or an admin) with an argon2-hashed password.

    Raises:
        ValidationFailed: the username is taken or malformed, the password too
            short, or a site unknown.
    """
    username = (username or "").strip()
    errors = {}
    if not username or len(username) > 64 or not username.isprintable():
        errors["username"] = "Use 1-64 printable characters."
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    sites = []
    for slug in site_slugs or []:
        site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
        if site is None:
            errors["sites"] = f"There is no site {slug!r}."
        else:
            sites.append(site)
    if errors:
        raise ValidationFailed(errors)
    moderator = Moderator(
        username=username,
        email=email,
        password_hash=hash_password(password),
        role=role,
        sites=sites,
    )
    try:
        db.session.add(moderator)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed({"username": f"{username!r} is taken."}) from None
    except BaseException:
        db.session.rollback()
        raise
    return moderator

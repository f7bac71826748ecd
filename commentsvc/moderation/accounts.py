"""Moderator accounts: argon2 passwords, sessions, and their management.

Both the admin UI and the ``flask moderators`` commands call these functions.
A moderator's sessions carry their ``session_generation`` (see
``Moderator.get_id``): raising it ends every session of that moderator at once,
copies of the cookie included. Logging out, a password change or reset and a
deactivation raise it. The one-click decision links mailed to a moderator carry
the generation and a fingerprint of the password hash (``link_binding``), so
they stop working at the same moments.
"""

import contextlib
import functools
import hashlib
import hmac

import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..comments.errors import ValidationFailed
from ..extensions import db
from ..models import Moderator, Role, Site
from ..sites import SLUG

MIN_PASSWORD_LENGTH = 10
# argon2 hashes anything, but a megabyte password is a cheap way to burn CPU.
MAX_PASSWORD_LENGTH = 1024
_PROFILES = {
    "rfc_9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc_9106_high_memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}
DEFAULT_PROFILE = "rfc_9106_low_memory"


@functools.cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(_PROFILES[profile])


def _hasher() -> PasswordHasher:
    # The app's PASSWORD_HASH_PROFILE: a test suite that logs in a thousand
    # times takes argon2's cheapest parameters, production RFC 9106's.
    profile = DEFAULT_PROFILE
    if has_app_context():
        profile = current_app.config.get("PASSWORD_HASH_PROFILE", DEFAULT_PROFILE)
    return _hasher_for(profile)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(moderator: Moderator, password: str) -> bool:
    """True if *password* is the moderator's; rehashes when parameters changed."""
    try:
        _hasher().verify(moderator.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher().check_needs_rehash(moderator.password_hash):
        moderator.password_hash = hash_password(password)
        db.session.commit()
    return True


def _dummy_hash() -> str:
    # Verified against when the username is unknown, so that a wrong username
    # costs as long as a wrong password and timing tells nothing.
    return _dummy_hash_for(_hasher())


@functools.cache
def _dummy_hash_for(hasher: PasswordHasher) -> str:
    return hasher.hash("not a real password")


def authenticate(username: str, password: str) -> Moderator | None:
    """Return the active moderator with these credentials, or None."""
    username = (username or "").strip()
    # A name no account can have is not looked up: PostgreSQL refuses a NUL
    # byte with an error, which would be a 500.
    moderator = (
        db.session.scalar(sa.select(Moderator).where(Moderator.username == username))
        if username.isprintable()
        else None
    )
    if moderator is None or not moderator.active:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher().verify(_dummy_hash(), password or "")
        return None
    return moderator if verify_password(moderator, password or "") else None


def load_moderator(session_id: str) -> Moderator | None:
    """Flask-Login's user loader: the active moderator whose session this is
    (``"id:generation"``, the generation still current), or None."""
    try:
        raw_id, raw_generation = (session_id or "").split(":")
        moderator = db.session.get(Moderator, int(raw_id))
        generation = int(raw_generation)
    except (TypeError, ValueError):
        return None
    if moderator is None or not moderator.active:
        return None
    return moderator if moderator.session_generation == generation else None


def _password_fingerprint(moderator: Moderator) -> str:
    # Keyed, and short: the hash itself never leaves the database, and a mail
    # link needs only to tell "the same password" from "another one".
    key = current_app.config["SECRET_KEY"].encode()
    message = b"decision-link|" + moderator.password_hash.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def link_binding(moderator: Moderator) -> dict:
    """What a mailed decision link of *moderator* carries to be revocable: their
    session generation and a fingerprint of their password."""
    return {"g": moderator.session_generation, "p": _password_fingerprint(moderator)}


def link_binding_holds(moderator: Moderator, payload: dict) -> bool:
    """True if a link made with :func:`link_binding` still stands: no session end
    (``end_sessions``, logout, deactivation) and no new password since."""
    return payload.get("g") == moderator.session_generation and hmac.compare_digest(
        str(payload.get("p", "")), _password_fingerprint(moderator)
    )


class ModeratorNotFound(LookupError):
    """No moderator has the given username or id."""


class LastAdmin(ValueError):
    """The change would leave the instance without an active admin."""


def get_moderator(key: int | str) -> Moderator:
    """The moderator with this id (an int) or username (a str).

    Raises:
        ModeratorNotFound: there is none.
    """
    if isinstance(key, int):
        moderator = db.session.get(Moderator, key)
    else:
        moderator = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == key)
        )
    if moderator is None:
        raise ModeratorNotFound(key)
    return moderator


def list_moderators() -> list[Moderator]:
    """Every account, admins included, by username."""
    return list(db.session.scalars(sa.select(Moderator).order_by(Moderator.username)))


def end_sessions(moderator: Moderator, commit: bool = True) -> None:
    """End every session of *moderator* (all devices, copied cookies too)."""
    # An increment in SQL: two concurrent calls both count, none is lost.
    db.session.execute(
        sa.update(Moderator)
        .where(Moderator.id == moderator.id)
        .values(session_generation=Moderator.session_generation + 1)
    )
    if commit:
        db.session.commit()
    db.session.refresh(moderator)


def _check_password(password: str | None, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            {field: f"Use at least {MIN_PASSWORD_LENGTH} characters."}
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            {field: f"Use at most {MAX_PASSWORD_LENGTH} characters."}
        )


def set_password(
    moderator: Moderator, password: str, field: str = "password", actor=None
) -> None:
    """Give *moderator* a new password (an admin's reset, or the CLI: *actor*
    None) and end all of their sessions.

    Raises:
        ValidationFailed: the password is too short or too long (on *field*).
    """
    _check_password(password, field)
    moderator.password_hash = hash_password(password)
    own = actor is not None and actor.id == moderator.id
    kind = "moderator.password_changed" if own else "moderator.password_reset"
    audit.record(kind, moderator, {"password": audit.CHANGED}, actor)
    end_sessions(moderator)


def change_own_password(moderator: Moderator, current: str, new: str) -> None:
    """A moderator's own change: the current password must be right. Ends all
    of their sessions (the caller logs the current one in again).

    Raises:
        ValidationFailed: the current password is wrong (``current_password``),
            or the new one too short or long (``new_password``).
    """
    if not verify_password(moderator, current or ""):
        raise ValidationFailed({"current_password": "Your current password is wrong."})
    set_password(moderator, new, field="new_password", actor=moderator)


def deactivate(moderator: Moderator, acting: Moderator | None = None) -> None:
    """Deactivate *moderator* (they can no longer log in) and end their
    sessions. *acting* is the admin doing it (None: the command line).

    Raises:
        ValidationFailed: *acting* is *moderator* (``moderator``).
        LastAdmin: *moderator* is the last active admin.
    """
    if acting is not None and acting.id == moderator.id:
        raise ValidationFailed({"moderator": "You cannot deactivate your own account."})
    others = sa.select(sa.func.count(Moderator.id)).where(
        Moderator.role == Role.ADMIN,
        Moderator.active.is_(True),
        Moderator.id != moderator.id,
    )
    was_active = moderator.active
    # One conditional statement, so that two admins deactivating each other at
    # once cannot both succeed and leave nobody to manage the instance.
    changed = db.session.execute(
        sa.update(Moderator)
        .where(Moderator.id == moderator.id)
        .where(sa.or_(Moderator.role != Role.ADMIN, others.scalar_subquery() > 0))
        .values(active=False, session_generation=Moderator.session_generation + 1)
    ).rowcount
    if changed and was_active:
        audit.record(
            "moderator.deactivated", moderator, {"active": [True, False]}, acting
        )
    db.session.commit()
    db.session.refresh(moderator)
    if not changed:
        raise LastAdmin(moderator.username)


def reactivate(moderator: Moderator, actor=None) -> None:
    """Let *moderator* log in again (old sessions stay ended); *actor* is the
    admin doing it (None: the command line)."""
    if not moderator.active:
        audit.record(
            "moderator.reactivated", moderator, {"active": [False, True]}, actor
        )
    moderator.active = True
    db.session.commit()


def set_sites(moderator: Moderator, site_slugs: list[str], actor=None) -> None:
    """Replace the sites *moderator* moderates (an admin sees every site anyway);
    *actor* is the admin doing it (None: the command line).

    Raises:
        ValidationFailed: a site is unknown (``sites``); nothing changes.
    """
    before = sorted(site.slug for site in moderator.sites)
    moderator.sites = _sites(site_slugs)
    after = sorted(site.slug for site in moderator.sites)
    if before != after:
        audit.record("moderator.sites", moderator, {"sites": [before, after]}, actor)
    db.session.commit()


def _sites(site_slugs: list[str]) -> list[Site]:
    wanted = list(dict.fromkeys(site_slugs))
    for slug in wanted:
        # Checked before any query: PostgreSQL refuses a NUL byte with an error.
        if not SLUG.match(slug):
            raise ValidationFailed({"sites": f"There is no site {slug!r}."})
    found = {
        site.slug: site
        for site in db.session.scalars(sa.select(Site).where(Site.slug.in_(wanted)))
    }
    for slug in wanted:
        if slug not in found:
            raise ValidationFailed({"sites": f"There is no site {slug!r}."})
    return [found[slug] for slug in wanted]


def create_moderator(
    username: str,
    password: str,
    role: Role = Role.MODERATOR,
    site_slugs: list[str] | None = None,
    email: str | None = None,
    actor=None,
) -> Moderator:
    """Create a moderator (or an admin) with an argon2-hashed password; *actor*
    is the admin doing it (None: the command line).

    Raises:
        ValidationFailed: the username is taken or malformed, the password too
            short, or a site unknown.
    """
    username = (username or "").strip()
    errors = {}
    if not username or len(username) > 64 or not username.isprintable():
        errors["username"] = "Use 1-64 printable characters."
    try:
        _check_password(password)
    except ValidationFailed as error:
        errors.update(error.fields)
    sites = []
    try:
        sites = _sites(site_slugs or [])
    except ValidationFailed as error:
        errors.update(error.fields)
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
        db.session.flush()
        created = {
            "username": username,
            "role": role,
            "sites": [site.slug for site in sites],
            "email": email,
        }
        audit.record("moderator.created", moderator, audit.diff({}, created), actor)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed({"username": f"{username!r} is taken."}) from None
    except BaseException:
        db.session.rollback()
        raise
    return moderator

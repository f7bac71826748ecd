"""Sign-in by e-mail for sites without accounts of their own: a one-time link,
mailed through the outbox, that opens a session for the address.

The link carries a signed token naming the link's row and a random key of
which only the hash is stored: the row alone (a database read) opens nothing,
and once used or past LIFETIME it opens nothing either. Its page asks for a
click (a GET never signs in: mail scanners open every link).
"""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..mail import links, outbox
from ..models import Account, SignInLink, as_utc, utcnow
from . import sessions
from .readers import find_or_create

SALT = "reader-sign-in"
LIFETIME = timedelta(minutes=30)
# Links one address may get an hour on one site: a form cannot flood a mailbox.
PER_ADDRESS = 5
KIND = outbox.SIGN_IN


class LinkUnusable(Exception):
    """The link cannot sign anyone in; ``reason`` is "invalid", "used" or
    "expired"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def request_link(site, email: str, name: str | None, return_url: str) -> bool:
    """Queue a sign-in link for *email* (validated, lowercased) on *site*, to
    come back to *return_url* (checked by accounts.safe_return); commits.
    Returns False when the address had PER_ADDRESS links this hour (nothing
    queued: the caller answers the same, so the form tells no one anything).

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed; nothing queued.
    """
    now = utcnow()
    recent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SignInLink)
        .where(
            SignInLink.site_id == site.id,
            SignInLink.email == email,
            SignInLink.created_at > now - timedelta(hours=1),
        )
    )
    if recent >= PER_ADDRESS:
        db.session.rollback()
        return False
    key = secrets.token_urlsafe(24)
    link = SignInLink(
        site_id=site.id,
        email=email,
        name=name,
        token_hash=_hash(key),
        return_url=return_url,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    try:
        db.session.add(link)
        db.session.flush()
        # The key rides in the outbox row until the worker renders the mail.
        outbox.queue(KIND, site.id, data={"l": link.id, "k": key})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return True


def link_token(link_id: int, key: str) -> str:
    """The token of a sign-in link's URL."""
    return links.sign(SALT, {"l": link_id, "k": key})


def check(site, token: str) -> SignInLink:
    """The link *token* names on *site*, if it may still sign in.

    Raises:
        LinkUnusable: "invalid" (not ours, another site, tampered), "used" or
            "expired".
    """
    try:
        payload = links.verify(SALT, token)
    except links.LinkError:
        raise LinkUnusable("invalid") from None
    link_id, key = payload.get("l"), payload.get("k")
    if not isinstance(link_id, int) or not isinstance(key, str):
        raise LinkUnusable("invalid")
    link = db.session.get(SignInLink, link_id)
    if link is None or link.site_id != site.id or link.token_hash != _hash(key):
        raise LinkUnusable("invalid")
    if link.used_at is not None:
        raise LinkUnusable("used")
    if as_utc(link.expires_at) <= utcnow():
        raise LinkUnusable("expired")
    return link


def sign_in(site, token: str) -> tuple[str, str]:
    """Use the link *token* once: the address's account on *site* (created on
    first sign-in, named as the reader asked or after the address) gets a new
    session. Commits. Returns (session token, the page to go back to).

    A banned or suspended account still signs in: it may read, download and
    delete its data; posting is refused (accounts.check_standing).

    Raises:
        LinkUnusable: see :func:`check` (also "used" when another click won).
        sqlalchemy.exc.DBAPIError: the database failed; nothing changed.
    """
    return use(site, check(site, token))


def use(site, link: SignInLink) -> tuple[str, str]:
    """Sign in with a link :func:`check` passed, if no other click used it in
    between (two tabs, a double click: only one wins). Commits.

    Raises:
        LinkUnusable: "used".
        sqlalchemy.exc.DBAPIError: the database failed; nothing changed.
    """
    try:
        used = db.session.execute(
            sa.update(SignInLink)
            .where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:
            raise LinkUnusable("used")
        existing = db.session.execute(
            sa.select(Account.name).where(
                Account.site_id == site.id,
                Account.provider == "email",
                Account.subject == link.email,
            )
        ).scalar_one_or_none()
        name = existing or link.name or link.email.split("@", 1)[0][:100]
        account = find_or_create(site.id, "email", link.email, name, link.email)
        session_token = sessions.issue(account.id)
        return_url = link.return_url
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return session_token, return_url


def purge_expired() -> int:
    """Forget links past their expiry (used or not); returns how many."""
    result = db.session.execute(
        sa.delete(SignInLink).where(SignInLink.expires_at <= utcnow())
    )
    db.session.commit()
    return result.rowcount

"""Bans by email, IP or network: a banned poster's new comments go to spam."""

import hashlib
import hmac
import ipaddress
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from .. import audit
from ..extensions import db
from ..models import Ban, BanKind, Comment, Moderator, Site, as_utc, utcnow
from .access import NotAllowed, can_moderate, visible_to
from .cache import bans_key, invalidate, read_cache
from .errors import ValidationFailed

# The network a ban "by network" covers around the comment's address.
NETWORK_PREFIX = {4: 24, 6: 64}


def _network_of(ip: str) -> str:
    address = ipaddress.ip_address(ip)
    return str(
        ipaddress.ip_network((address, NETWORK_PREFIX[address.version]), strict=False)
    )


def erased_email_value(email: str) -> str:
    """What an e-mail ban holds once its address was erased at the author's
    request (commentsvc.portability.redact): a keyed hash, so the ban still
    matches the address without keeping it."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"ban-email:{email.strip().lower()}".encode()
    digest = hmac.new(key, message, hashlib.sha256)
    return f"erased:{digest.hexdigest()}"


def ban_from_comment(
    moderator: Moderator,
    comment: Comment,
    kind: BanKind,
    expires_at: datetime | None = None,
    reason: str | None = None,
) -> Ban:
    """Ban the comment's email, IP or network on its site, optionally until a date.

    Raises:
        NotAllowed: the moderator does not moderate the comment's site.
        ValidationFailed: the comment has no email/IP to ban, or the date is past.
    """
    if not can_moderate(moderator, comment.site_id):
        raise NotAllowed(comment.id)
    if kind == BanKind.EMAIL:
        if not comment.email:
            raise ValidationFailed({"kind": "This comment has no email address."})
        value = comment.email.strip().lower()
    else:
        if not comment.ip:
            raise ValidationFailed({"kind": "This comment's IP address was erased."})
        try:
            value = comment.ip if kind == BanKind.IP else _network_of(comment.ip)
        except ValueError:
            raise ValidationFailed(
                {"kind": "This comment's IP is not an address."}
            ) from None
    if expires_at is not None and as_utc(expires_at) <= utcnow():
        raise ValidationFailed(
            {"expires_at": "The end of a ban must be in the future."}
        )
    ban = Ban(
        site_id=comment.site_id,
        kind=kind,
        value=value,
        reason=(reason or "").strip()[:500] or None,
        created_by_id=moderator.id,
        expires_at=expires_at,
    )
    try:
        db.session.add(ban)
        audit.record(
            "ban.added",
            ban,
            {
                "kind": kind,
                "value": value,
                "until": ban.expires_at.isoformat() if expires_at else None,
                "reason": ban.reason,
            },
            moderator,
            comment.site_id,
            comment_id=comment.id,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    invalidate(comment.site.slug)  # posts cache whether the site has bans
    return ban


_bans = Ban.__table__
# Built once: every post runs it. Network bans are few and matched here, in
# Python: the database cannot compare addresses portably.
_CANDIDATES = sa.select(_bans.c.id, _bans.c.kind, _bans.c.value).where(
    _bans.c.site_id == sa.bindparam("site_id"),
    sa.or_(_bans.c.expires_at.is_(None), _bans.c.expires_at > sa.bindparam("now")),
    sa.or_(
        sa.and_(
            _bans.c.kind == BanKind.EMAIL,
            _bans.c.value.in_([sa.bindparam("email"), sa.bindparam("erased_email")]),
        ),
        sa.and_(_bans.c.kind == BanKind.IP, _bans.c.value == sa.bindparam("ip")),
        _bans.c.kind == BanKind.NETWORK,
    ),
)


_ANY_UNEXPIRED = (
    sa.select(_bans.c.id)
    .where(
        _bans.c.site_id == sa.bindparam("site_id"),
        sa.or_(_bans.c.expires_at.is_(None), _bans.c.expires_at > sa.bindparam("now")),
    )
    .limit(1)
)


def active_ban(site, email: str | None, ip: str | None):
    """The ban (id, kind, value) of *site* that applies to a new comment from
    *email* and *ip*, if any.

    Most sites have no bans at all: whether a site has any is cached with its
    public reads (a ban or its lifting drops it), so their posts ask nothing.
    """
    if not _may_have_bans(site):
        return None
    candidates = db.session.connection().execute(
        _CANDIDATES,
        {
            "site_id": site.id,
            "now": utcnow(),
            "email": (email or "").lower(),
            "erased_email": erased_email_value(email) if email else "",
            "ip": ip or "",
        },
    )
    address = None
    for ban in candidates:
        if ban.kind != BanKind.NETWORK:
            return ban
        if address is None:
            address = _address(ip)
        if address:
            network = ipaddress.ip_network(ban.value)
            if address.version == network.version and address in network:
                return ban
    return None


def _may_have_bans(site) -> bool:
    cache = read_cache()
    if not cache.enabled:
        return True  # then the one query above answers on its own
    key = bans_key(site.slug)
    known = cache.get(key)
    if known is None:
        generation = cache.generation
        found = db.session.connection().execute(
            _ANY_UNEXPIRED, {"site_id": site.id, "now": utcnow()}
        )
        # An expired ban keeps this True until the entry ages out: a query
        # that finds nothing, never a ban missed.
        known = found.first() is not None
        cache.put(key, known, generation)
    return known


def _address(ip: str | None):
    """The address *ip* names, or False (no address, or not one)."""
    try:
        return ipaddress.ip_address(ip) if ip else False
    except ValueError:
        return False


def bans_for(moderator: Moderator) -> list[Ban]:
    """The bans on the sites *moderator* moderates, newest first."""
    query = sa.select(Ban).order_by(Ban.created_at.desc(), Ban.id.desc())
    query = visible_to(moderator, query, Ban.site_id)
    return list(db.session.scalars(query.limit(500)))


def lift_ban(moderator: Moderator, ban_id: int) -> None:
    """Remove a ban.

    Raises:
        LookupError: no such ban.
        NotAllowed: it is on a site the moderator does not moderate.
    """
    ban = db.session.get(Ban, ban_id)
    if ban is None:
        raise LookupError(ban_id)
    if not can_moderate(moderator, ban.site_id):
        raise NotAllowed(ban_id)
    site = db.session.get(Site, ban.site_id)
    try:
        audit.record(
            "ban.lifted", ban, {"kind": ban.kind, "value": ban.value}, moderator, site
        )
        db.session.delete(ban)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    invalidate(site.slug)

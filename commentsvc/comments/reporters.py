"""Who counts as a reader when readers report comments.

- **A network** is an IPv4 address, or an IPv6 /48 (what one subscriber or
  site usually holds: every /64 of it is the same reporter). It is not the rate
  limits' /64 (commentsvc.ratelimit.ip_bucket): one person with a /48 must not
  count as 65,536 readers.
- **A reader** is a browser token (the embed's random token, kept in the
  browser) wherever it comes from; readers behind one address count apart when
  their tokens differ.
- **A report with no browser token** is the network's own report: it counts
  only if nothing from that network reported the comment yet, so it never
  adds a reader by itself.
- **A network that reports often** (more than :func:`free_reports` reports in
  an hour, across comments: REPORT_CAPTCHA_AFTER, but always one short of the
  site's report threshold, so one network alone never hides a comment without
  it) must solve the site's captcha for each further report; on a site without
  a captcha it waits until the hour has passed.

Addresses and tokens are kept only as keyed hashes.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import CommentReport, as_utc, utcnow
from ..ratelimit import ip_bucket

# Reports are counted per IPv6 /48.
REPORT_IPV6_PREFIX = 48
# The window of "reports often".
NETWORK_WINDOW = timedelta(hours=1)


def report_network(ip: str | None) -> str:
    """The network a report comes from: the IPv4 address itself (an
    IPv4-mapped IPv6 address counts as IPv4), the IPv6 /48 around an IPv6
    address, ``unknown`` without an address."""
    return ip_bucket(ip, REPORT_IPV6_PREFIX)


def _digest(kind: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"report-{kind}:{value}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Reporter:
    """The keyed hashes a report is stored and counted by."""

    network_hash: str
    token_hash: str | None
    reader_hash: str

    @classmethod
    def of(cls, ip: str | None, token: str | None) -> "Reporter":
        network = _digest("net", report_network(ip))
        token_hash = _digest("token", token) if token else None
        return cls(network, token_hash, token_hash or network)


def already_reported(comment_id: int, reporter: Reporter) -> bool:
    """Whether this reader reported the comment already (its token, or for a
    report without a token: anyone from its network)."""
    same = CommentReport.reader_hash == reporter.reader_hash
    if reporter.token_hash is None:
        same = sa.or_(same, CommentReport.ip_hash == reporter.network_hash)
    query = sa.select(CommentReport.id).where(CommentReport.comment_id == comment_id)
    return db.session.scalar(query.where(same).limit(1)) is not None


def free_reports(site) -> int:
    """How many reports a network files in an hour without a captcha:
    REPORT_CAPTCHA_AFTER, but one short of the site's report threshold (one
    network alone, whatever browser tokens it sends, never takes a comment
    to the threshold unchecked), and at least one."""
    allowed = current_app.config["REPORT_CAPTCHA_AFTER"]
    return max(1, min(allowed, site.report_threshold - 1))


def network_busy_until(reporter: Reporter, site, now: datetime | None = None):
    """None when the reporter's network may report on *site* without a
    captcha; else when its reports of the last hour fall back under
    :func:`free_reports`."""
    now = now or utcnow()
    allowed = free_reports(site)
    recent = list(
        db.session.scalars(
            sa.select(CommentReport.created_at)
            .where(
                CommentReport.ip_hash == reporter.network_hash,
                CommentReport.created_at > now - NETWORK_WINDOW,
            )
            .order_by(CommentReport.created_at.desc())
            .limit(allowed)
            .offset(allowed - 1)
        )
    )
    if not recent:
        return None
    # The allowed-th newest report leaving the window frees a place.
    return as_utc(recent[0]) + NETWORK_WINDOW

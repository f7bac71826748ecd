"""What moderators do to a reader's account: suspend it for a time (the reader
is told until when and why on their next post), lift that, ban it (for good,
its sessions end), unban it, make it staff (a badge on its comments) or not;
and what they read first: its history on the site.

Each change is one transaction with its audit entry (commentsvc.audit), and
only on a site the moderator moderates.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from .. import audit
from ..comments.access import NotAllowed, can_moderate
from ..comments.errors import ValidationFailed
from ..extensions import db
from ..models import Account, Comment, CommentStatus, as_utc, iso8601, utcnow
from . import sessions
from .readers import suspended_until

# The spans a moderator picks from (or a date of their own).
SPANS = {"1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
MAX_REASON = 500
HISTORY_PAGE = 20


class UnknownAccount(LookupError):
    """No account has this id."""


class StaffAccountRefused(ValueError):
    """A moderator's own staff account is not suspended, banned or demoted:
    the moderator is (deactivate them instead)."""

    def __init__(self):
        super().__init__(
            "This is a moderator's own staff account: deactivate the moderator instead."
        )


def account_for(moderator, account_id: int) -> Account:
    """The account *account_id*, if *moderator* moderates its site.

    Raises:
        UnknownAccount: no such account.
        NotAllowed: it belongs to a site the moderator does not moderate.
    """
    account = db.session.get(Account, account_id)
    if account is None:
        raise UnknownAccount(account_id)
    if not can_moderate(moderator, account.site_id):
        raise NotAllowed(account_id)
    return account


def _reason(reason: str | None, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and reason is None:
        raise ValidationFailed({"reason": "Say why: the reader is shown it."})
    if reason and len(reason) > MAX_REASON:
        raise ValidationFailed({"reason": f"At most {MAX_REASON} characters, please."})
    return reason


def _not_staff_account(account: Account) -> None:
    if account.provider == "staff":
        raise StaffAccountRefused()


def _record(kind: str, account: Account, moderator, changes: dict) -> None:
    audit.record(kind, account, changes, actor=moderator, site=account.site_id)


def suspend(moderator, account: Account, until: datetime, reason: str | None):
    """Suspend *account* until *until* (aware, in the future) for *reason*
    (required: the reader is shown it); a suspension in force is replaced.

    Raises:
        ValidationFailed: *until* is not in the future, or the reason is
            missing or too long; nothing changed.
        StaffAccountRefused: a moderator's staff account.
        NotAllowed: not a site the moderator moderates.
    """
    _check(moderator, account)
    _not_staff_account(account)
    reason = _reason(reason, required=True)
    if as_utc(until) <= utcnow():
        raise ValidationFailed({"until": "Choose an end in the future."})
    changes = {
        "suspended_until": [iso8601(suspended_until(account)), iso8601(until)],
        "reason": reason,
    }
    account.suspended_until = until
    account.suspension_reason = reason
    _record("reader.suspended", account, moderator, changes)
    db.session.commit()


def lift(moderator, account: Account, reason: str | None = None) -> bool:
    """End *account*'s suspension now; False if it was not suspended.

    Raises:
        ValidationFailed: the reason is too long.
        NotAllowed: not a site the moderator moderates.
    """
    _check(moderator, account)
    reason = _reason(reason, required=False)
    if suspended_until(account) is None:
        return False
    changes = {"suspended_until": [iso8601(account.suspended_until), None]}
    if reason:
        changes["reason"] = reason
    account.suspended_until = None
    account.suspension_reason = None
    _record("reader.suspension_lifted", account, moderator, changes)
    db.session.commit()
    return True


def ban(moderator, account: Account, reason: str | None) -> None:
    """Ban *account* for *reason* (required: the reader is shown it); it is
    signed out everywhere.

    Raises:
        ValidationFailed: the reason is missing or too long.
        StaffAccountRefused: a moderator's staff account.
        NotAllowed: not a site the moderator moderates.
    """
    _check(moderator, account)
    _not_staff_account(account)
    reason = _reason(reason, required=True)
    account.banned = True
    account.ban_reason = reason
    sessions.end_all(account.id)
    _record("reader.banned", account, moderator, {"reason": reason})
    db.session.commit()


def unban(moderator, account: Account, reason: str | None = None) -> bool:
    """Lift *account*'s ban; False if it was not banned.

    Raises:
        ValidationFailed: the reason is too long.
        NotAllowed: not a site the moderator moderates.
    """
    _check(moderator, account)
    reason = _reason(reason, required=False)
    if not account.banned:
        return False
    account.banned = False
    account.ban_reason = None
    _record("reader.unbanned", account, moderator, {"reason": reason} if reason else {})
    db.session.commit()
    return True


def set_staff(moderator, account: Account, staff: bool, reason: str | None = None):
    """Make *account* staff or not. The badge follows on the comments it posts
    from now on (a comment keeps the badge it was posted with); staff
    comments are published at once unless a rule holds them.

    Raises:
        ValidationFailed: the reason is too long.
        StaffAccountRefused: taking staff from a moderator's staff account.
        NotAllowed: not a site the moderator moderates.
    """
    _check(moderator, account)
    if not staff:
        _not_staff_account(account)
    reason = _reason(reason, required=False)
    if account.staff == staff:
        return
    changes = {"staff": [account.staff, staff]}
    if reason:
        changes["reason"] = reason
    account.staff = staff
    _record("reader.staff", account, moderator, changes)
    db.session.commit()


def _check(moderator, account: Account) -> None:
    if not can_moderate(moderator, account.site_id):
        raise NotAllowed(account.id)


@dataclass
class History:
    """An account's comments on its site: how many of each status, and one
    page of them, newest first (``next_before``: the id to ask for next)."""

    counts: dict = field(default_factory=dict)
    comments: list = field(default_factory=list)
    next_before: int | None = None


def history(account: Account, before: int | None = None) -> History:
    """*account*'s counts by status (approved, rejected, spam, pending,
    deleted) and the page of its comments older than the comment *before*
    (newest first; ties on time broken by id).

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    c = Comment
    mine = (c.account_id == account.id, c.site_id == account.site_id)
    counts = {status.value: 0 for status in CommentStatus}
    for status, n in db.session.execute(
        sa.select(c.status, sa.func.count()).where(*mine).group_by(c.status)
    ):
        counts[status.value] = n
    query = sa.select(c).where(*mine)
    if before is not None:
        anchor = db.session.get(c, before)
        if anchor is not None and anchor.account_id == account.id:
            key = sa.tuple_(c.created_at, c.id)
            query = query.where(key < sa.tuple_(anchor.created_at, anchor.id))
    rows = list(
        db.session.scalars(
            query.order_by(c.created_at.desc(), c.id.desc()).limit(HISTORY_PAGE + 1)
        )
    )
    page = rows[:HISTORY_PAGE]
    after = page[-1].id if len(rows) > HISTORY_PAGE else None
    return History(counts, page, after)


def accounts_by_id(ids) -> dict[int, Account]:
    """The accounts *ids* (the queue's comments'), by id, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    found = db.session.scalars(sa.select(Account).where(Account.id.in_(wanted)))
    return {account.id: account for account in found}

"""Trust that is earned, per account (Coral's rules): a new account is held
until enough of its comments were approved; an account whose recent comments
were mostly rejected is held again; a clean history publishes at once where
the site trusts approved authors."""

from types import SimpleNamespace

import sqlalchemy as sa

from ..extensions import db
from ..models import Account, Comment, CommentStatus, ModerationPolicy
from ..spam.verdict import Verdict
from .settings import sign_in_settings

# The recent decisions the "mostly rejected" rule reads, and how many it needs
# before it judges at all (one rejection of a first comment is no pattern).
RECENT = 10
MIN_DECIDED = 3

_DECIDED = (CommentStatus.APPROVED, CommentStatus.REJECTED, CommentStatus.SPAM)
_c = Comment.__table__.c
_APPROVED = (
    sa.select(sa.func.count())
    .where(_c.account_id == sa.bindparam("account_id"))
    .where(_c.status == CommentStatus.APPROVED)
)
_RECENT = (
    sa.select(_c.status)
    .where(_c.account_id == sa.bindparam("account_id"))
    .where(_c.status.in_(_DECIDED))
    .order_by(_c.id.desc())
    .limit(RECENT)
)


def history(account_id: int) -> tuple[int, int, int]:
    """(approved in all, rejected or spam among the recent, recent decided).

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    connection = db.session.connection()
    approved = connection.execute(_APPROVED, {"account_id": account_id}).scalar_one()
    recent = connection.execute(_RECENT, {"account_id": account_id}).scalars().all()
    rejected = sum(status != CommentStatus.APPROVED for status in recent)
    return approved, rejected, len(recent)


def judge(site, reader, verdict: Verdict) -> None:
    """Hold or publish a signed-in reader's comment by their account's history,
    in the caller's transaction. Staff publish at once unless a rule held it.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    if verdict.status != CommentStatus.PENDING:
        return  # spam stays spam, whoever wrote it
    if reader.staff:
        if not verdict.held:
            verdict.status = CommentStatus.APPROVED
            verdict.signals["staff"] = True
        return
    settings = sign_in_settings(site.id, site.slug)
    approved, rejected, decided = history(reader.account_id)
    needed = settings.new_account_min_approved
    if approved < needed:
        verdict.hold("new_account", {"approved": approved, "needed": needed})
    if decided >= MIN_DECIDED and rejected / decided > settings.rejected_hold_ratio:
        verdict.hold("mostly_rejected", {"rejected": rejected, "of": decided})
    if (
        not verdict.held
        and site.moderation_policy == ModerationPolicy.TRUST_APPROVED_AUTHORS
        and approved >= site.trusted_author_min_approved
    ):
        verdict.status = CommentStatus.APPROVED
        verdict.signals["trusted_account"] = True


def judge_account(site, account_id: int, verdict: Verdict) -> None:
    """:func:`judge` for a stored comment's account (an author's edit); an
    account erased since is judged as a new one.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    staff = db.session.scalar(sa.select(Account.staff).where(Account.id == account_id))
    judge(site, SimpleNamespace(account_id=account_id, staff=bool(staff)), verdict)

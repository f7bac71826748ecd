"""Moderators and mail: each one's settings per site, and decisions taken
through a mail's signed link (the same service function as the queue)."""

from dataclasses import dataclass

import sqlalchemy as sa

from .. import audit
from ..comments.access import NotAllowed, allowed_site_ids, can_moderate
from ..comments.errors import SiteNotFound, ValidationFailed
from ..comments.moderation import ACTIONS, Conflict, Target, moderate
from ..comments.reasons import Why, explain_waiting
from ..extensions import db
from ..models import Comment, Moderator, ModeratorMailSetting, Site, utcnow
from ..moderation.accounts import link_binding_holds
from ..sites import SLUG
from . import links
from .outbox import MODES

BY_MAIL = "by mail"


def settings_of(moderator: Moderator) -> list[tuple[Site, str]]:
    """Every site the moderator moderates with their mail setting for it."""
    allowed = allowed_site_ids(moderator)
    query = sa.select(Site).order_by(Site.slug)
    if allowed is not None:
        query = query.where(Site.id.in_(allowed or [-1]))
    modes = dict(
        db.session.execute(
            sa.select(ModeratorMailSetting.site_id, ModeratorMailSetting.mode).where(
                ModeratorMailSetting.moderator_id == moderator.id
            )
        ).all()
    )
    return [(site, modes.get(site.id, "each")) for site in db.session.scalars(query)]


def set_mode(moderator: Moderator, site_slug: str, mode: str, actor=None) -> None:
    """Set what mail *moderator* gets about the site: each, hourly, daily, none.
    *actor* is who does it: the moderator in the UI (None: the command line).

    Raises:
        SiteNotFound: no such site.
        ValidationFailed: an unknown mode, or a site they do not moderate.
    """
    if mode not in MODES:
        raise ValidationFailed({"mode": f"One of {', '.join(MODES)}."})
    site = (
        db.session.scalar(sa.select(Site).where(Site.slug == site_slug))
        if SLUG.match(site_slug)  # the database refuses some (a NUL byte)
        else None
    )
    if site is None:
        raise SiteNotFound(site_slug)
    if not can_moderate(moderator, site.id):
        raise ValidationFailed({"site": f"{moderator.username} does not moderate it."})
    try:
        setting = db.session.get(ModeratorMailSetting, (moderator.id, site.id))
        if setting is None:
            setting = ModeratorMailSetting(moderator_id=moderator.id, site_id=site.id)
            db.session.add(setting)
        before = setting.mode or "each"  # no row: each comment
        if before != mode:
            changed = {"mode": [before, mode]}
            audit.record("mail.settings", moderator, changed, actor, site)
        if setting.mode != mode and mode in ("hourly", "daily"):
            setting.last_digest_at = utcnow()  # the first digest covers from now
        setting.mode = mode
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    # Pending digests of a mode left behind are not sent: the worker gathers
    # by the current mode only.


def report_mail_of(moderator: Moderator) -> dict[int, bool]:
    """Whether the moderator wants a mail when readers' reports of a comment
    reach a site's threshold, per site id (no setting: yes)."""
    rows = db.session.execute(
        sa.select(ModeratorMailSetting.site_id, ModeratorMailSetting.reports).where(
            ModeratorMailSetting.moderator_id == moderator.id
        )
    )
    wanted = dict(rows.all())
    return {site.id: wanted.get(site.id, True) for site, _ in settings_of(moderator)}


def set_report_mail(moderator: Moderator, site: Site, wanted: bool, actor=None):
    """Set whether *moderator* gets mail about reported comments of *site*
    (one they moderate: see :func:`settings_of`), audited."""
    try:
        setting = db.session.get(ModeratorMailSetting, (moderator.id, site.id))
        if setting is None:
            setting = ModeratorMailSetting(
                moderator_id=moderator.id, site_id=site.id, mode="each"
            )
            db.session.add(setting)
        before = True if setting.reports is None else setting.reports
        if before != wanted:
            changed = {"reports": [before, wanted]}
            audit.record("mail.settings", moderator, changed, actor, site)
        setting.reports = wanted
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


class MailDecisionRefused(Exception):
    """The link's moderator may not decide (deactivated, or off the site)."""


class MailLinkRevoked(MailDecisionRefused):
    """The link was made before its moderator's sessions ended or their
    password changed."""


@dataclass
class LinkDecision:
    comment: Comment
    moderator: Moderator
    action: str
    version: int
    why: Why
    conflict: Conflict | None = None  # decided already (by whom)


def _conflict(comment: Comment) -> Conflict:
    by = comment.moderated_by.username if comment.moderated_by else None
    return Conflict(comment.id, comment.status, by)


def check_link(token: str) -> LinkDecision:
    """What a decision link would do, without doing it.

    Raises:
        links.LinkExpired: older than MAIL_LINK_DAYS.
        links.LinkInvalid: tampered, or its comment is gone.
        MailDecisionRefused: the moderator was deactivated or taken off the site.
        MailLinkRevoked: their sessions ended or password changed since.
    """
    payload = links.verify(links.DECIDE, token)
    action = payload.get("a")
    comment = db.session.get(Comment, payload.get("c"))
    moderator = db.session.get(Moderator, payload.get("m"))
    if action not in ("approve", "spam", "reject") or comment is None:
        raise links.LinkInvalid
    if moderator is None or not moderator.active:
        raise MailDecisionRefused
    if not link_binding_holds(moderator, payload):
        raise MailLinkRevoked
    if not can_moderate(moderator, comment.site_id):
        raise MailDecisionRefused
    decision = LinkDecision(
        comment,
        moderator,
        action,
        payload.get("v"),
        explain_waiting(comment),
    )
    if comment.version != decision.version:
        decision.conflict = _conflict(comment)
    return decision


def decide_by_link(token: str) -> LinkDecision:
    """Take the link's decision, as its moderator, audited "by mail"; a
    comment decided since the mail (its version moved) is a conflict.

    Raises:
        links.LinkExpired, links.LinkInvalid, MailDecisionRefused: see
            :func:`check_link`.
    """
    decision = check_link(token)
    if decision.conflict is not None:
        return decision
    try:
        outcome = moderate(
            decision.moderator,
            [Target(decision.comment.id, decision.version)],
            ACTIONS[decision.action],
            reason=BY_MAIL,
        )
    except NotAllowed:
        raise MailDecisionRefused from None
    db.session.refresh(decision.comment)
    if outcome.conflicts:
        decision.conflict = outcome.conflicts[0]
    return decision

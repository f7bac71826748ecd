"""The audit trail page, a comment's own page with its history (and the
staff reply form: reply_views), and the bans page (a ban is made from a
comment in the queue: queue_views.ban)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..accounts.moderation import accounts_by_id
from ..comments import bans as ban_service
from ..comments.access import NotAllowed, UnknownComment, get_comment_for
from ..comments.queue import pending_count, reported_count
from . import bp
from .audit_rows import Links, describe
from .audit_trail import (
    KIND_GROUPS,
    NOBODY,
    BadFilter,
    BadPageLink,
    TrailFilters,
    TrailPage,
    trail_page,
    who_choices,
)
from .forms import EmptyForm
from .reader_forms import ReplyForm
from .views import visible_sites

FILTERS = ("site", "who", "kind", "comment", "thread")
KIND_LABELS = {
    "decisions": "Decisions",
    "bans": "Bans",
    "settings": "Site settings",
    "accounts": "Accounts",
    "webhooks": "Webhooks",
    "mail": "Mail settings",
    "readers": "Readers' accounts",
}


def _page(template: str, status: int = 200, **context):
    return render_template(
        template,
        logout_form=EmptyForm(),
        pending=pending_count(current_user),
        reported=reported_count(current_user),
        **context,
    ), status


def _filters() -> TrailFilters:
    return TrailFilters(
        **{
            # No NUL: PostgreSQL refuses it in a query's text.
            name: (request.args.get(name) or "").replace("\x00", "").strip()[:512]
            or None
            for name in FILTERS
        }
    )


@bp.get("/audit")
@login_required
def audit():
    """The audit trail: decisions, bans, settings, accounts, webhooks and mail
    changes, newest first, filtered, each naming (and linking) what changed."""
    filters = _filters()
    error, code = None, 200
    try:
        trail = trail_page(current_user, filters, request.args.get("after"))
    except BadFilter as bad:
        # A forged page link is a 422, as the API's cursors are.
        code = 422 if isinstance(bad, BadPageLink) else 400
        error, trail = str(bad), TrailPage([], None)
    links = Links(current_user)
    return _page(
        "moderation/audit.html",
        code,
        rows=[describe(item, links) for item in trail.items],
        next_cursor=trail.next_cursor,
        filters=filters,
        error=error,
        sites=visible_sites(),
        moderators=who_choices(current_user),
        nobody=NOBODY,
        kinds=[(kind, KIND_LABELS[kind]) for kind in KIND_GROUPS],
    )


@bp.get("/comments/<int:comment_id>")
@login_required
def comment(comment_id: int):
    """One comment: its status, thread, parent and full history, its author's
    account, and a form to reply as staff."""
    return comment_page(comment_id)


def comment_page(comment_id: int, reply_form=None, status: int = 200):
    """The page of the comment *comment_id* (404 unknown, 403 another site's),
    with *reply_form* as the moderator left it (a refused reply)."""
    try:
        found = get_comment_for(current_user, comment_id)
    except UnknownComment:
        abort(404)
    except NotAllowed:
        abort(403)
    trail = trail_page(current_user, TrailFilters(comment=str(found.id)))
    links = Links(current_user)
    return _page(
        "moderation/comment.html",
        status,
        comment=found,
        account=accounts_by_id([found.account_id]).get(found.account_id),
        reply_form=reply_form or ReplyForm(formdata=None),
        rows=[describe(item, links) for item in trail.items],
        more_history=trail.next_cursor is not None,
        queue_url=url_for(
            "moderation.queue",
            status=found.status.value,
            site=found.site.slug,
            thread=found.thread.key,
        ),
    )


@bp.get("/bans")
@login_required
def bans():
    """The bans on the moderator's sites: site, kind, value, who, when, until
    and why, each with a Lift button."""
    return _page(
        "moderation/bans.html",
        bans=ban_service.bans_for(current_user),
        site_names={site.id: site.name for site in visible_sites()},
        form=EmptyForm(),
    )


@bp.post("/bans/<int:ban_id>/lift")
@login_required
def lift_ban(ban_id: int):
    """Lift a ban."""
    if not EmptyForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("moderation.bans"))
    try:
        ban_service.lift_ban(current_user, ban_id)
    except NotAllowed:
        abort(403)
    except LookupError:
        abort(404)
    flash("Ban lifted.", "info")
    return redirect(url_for("moderation.bans"))

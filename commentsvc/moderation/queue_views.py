"""The review queue: tabs, filters, decisions one by one or in bulk, and bans
from a comment (the bans page and the audit trail: audit_views). Works without
JavaScript; static/moderation.js adds keys."""

from datetime import UTC, datetime, time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..api.forms import MAX_ID
from ..comments import bans as ban_service
from ..comments import closing
from ..comments import reports as report_service
from ..comments.errors import ThreadNotFound, ValidationFailed
from ..comments.moderation import (
    ACTIONS,
    NotAllowed,
    Target,
    UnknownComment,
    can_moderate,
    get_comment_for,
    moderate,
)
from ..comments.queue import (
    QueueFilters,
    pending_count,
    queue_page,
    reported_count,
)
from ..extensions import db
from ..models import BanKind, CommentStatus, Thread
from . import bp
from .forms import BanForm, DecisionForm, EmptyForm
from .views import safe_next, visible_sites

TABS = [
    CommentStatus.PENDING,
    CommentStatus.APPROVED,
    CommentStatus.SPAM,
    CommentStatus.REJECTED,
    CommentStatus.DELETED,
]
FILTER_FIELDS = ("site", "thread", "author", "email", "ip", "text")
# The tab of comments readers reported (whatever their status).
REPORTED = "reported"


def _status_arg() -> CommentStatus | None:
    """The tab asked for: a status, or None for the Reported tab."""
    value = request.args.get("status", "pending")
    if value == REPORTED:
        return None
    try:
        return CommentStatus(value)
    except ValueError:
        abort(404)


def _filters() -> QueueFilters:
    values = {
        # No NUL: PostgreSQL refuses it in a query's text.
        k: (request.args.get(k) or "").replace("\x00", "").strip()[:254] or None
        for k in FILTER_FIELDS
    }
    return QueueFilters(**values)


@bp.get("/queue")
@login_required
def queue():
    """One tab of the queue, filtered, one keyset page at a time."""
    status = _status_arg()
    filters = _filters()
    page = queue_page(current_user, status, filters, request.args.get("after"))
    return render_template(
        "moderation/queue.html",
        status=status or REPORTED,
        tabs=[*TABS, REPORTED],
        pending=pending_count(current_user),
        reported=reported_count(current_user),
        filters=filters,
        page=page,
        sites=visible_sites(),
        form=DecisionForm(),
        ban_form=BanForm(),
        logout_form=EmptyForm(),
        actions=ACTIONS,
        thread_closed=_thread_closed(page.comments),
    )


def _thread_closed(comments) -> dict[int, bool]:
    """Whether each comment's thread is closed, by thread id."""
    return {c.thread_id: closing.is_closed(c.site, c.thread) for c in comments}


@bp.post("/threads/<int:thread_id>/comments-open")
@login_required
def thread_open(thread_id: int):
    """Open or close a thread to new comments (``state``: open, closed), or let
    it follow its site's rule again (site)."""
    back = safe_next(request.form.get("next")) or url_for("moderation.queue")
    # An id past the column names no thread (and the database refuses it).
    thread = db.session.get(Thread, thread_id) if thread_id <= MAX_ID else None
    if thread is None or not can_moderate(current_user, thread.site_id):
        abort(403)
    if not EmptyForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(back)
    state = request.form.get("state", "")
    if state not in closing.STATES:
        flash("Unknown action.", "error")
        return redirect(back)
    slug, key = thread.site.slug, thread.key
    try:
        closing.set_open(slug, key, closing.STATES[state], current_user)
    except ThreadNotFound:
        abort(404)
    said = {
        "open": "opened to new comments",
        "closed": "closed to new comments",
        "site": "following the site's rule",
    }[state]
    flash(f"Thread {key} {said}.", "info")
    return redirect(back)


def _parse_target(raw: str) -> Target | None:
    ident, _, version = raw.partition(":")
    try:
        return Target(int(ident), int(version))
    except ValueError:
        return None


@bp.post("/decide")
@login_required
def decide():
    """Apply an action to one comment or to the ticked ones."""
    form = DecisionForm()
    back = safe_next(request.form.get("next")) or url_for("moderation.queue")
    if not form.validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(back)
    one = request.form.get("one", "")
    if one:
        action, _, raw_target = one.partition(":")
        targets = [_parse_target(raw_target)]
    else:
        action = request.form.get("bulk", "")
        targets = [_parse_target(raw) for raw in request.form.getlist("selected")]
    if action not in ACTIONS or None in targets:
        flash("Unknown action.", "error")
        return redirect(back)
    if not targets:
        flash("Select at least one comment.", "error")
        return redirect(back)
    try:
        decision = moderate(current_user, targets, ACTIONS[action], form.reason.data)
    except (NotAllowed, UnknownComment):
        abort(403)
    except ValueError as error:
        flash(str(error), "error")
        return redirect(back)
    verb = ACTIONS[action].value
    if decision.changed:
        n = len(decision.changed)
        flash(f"{n} comment{'s' if n != 1 else ''} {verb}.", "info")
    for conflict in decision.conflicts:
        flash(conflict.message(), "warning")
    return redirect(back)


@bp.post("/comments/<int:comment_id>/dismiss-reports")
@login_required
def dismiss_reports(comment_id: int):
    """Dismiss a comment's open reports; its status stays as it is."""
    back = safe_next(request.form.get("next")) or url_for(
        "moderation.queue", status=REPORTED
    )
    if not EmptyForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(back)
    try:
        if comment_id > MAX_ID:  # names no comment (and the database refuses it)
            raise UnknownComment(comment_id)
        count = report_service.dismiss(current_user, comment_id)
    except (NotAllowed, UnknownComment):
        abort(403)
    flash(f"{count} report{'s' if count != 1 else ''} dismissed.", "info")
    return redirect(back)


@bp.post("/comments/<int:comment_id>/ban")
@login_required
def ban(comment_id: int):
    """Ban the email, IP or network of a comment, optionally until a date."""
    form = BanForm()
    back = safe_next(request.form.get("next")) or url_for("moderation.queue")
    try:
        comment = get_comment_for(current_user, comment_id)
    except (NotAllowed, UnknownComment):
        abort(403)
    if not form.validate_on_submit():
        flash("Please check the ban form.", "error")
        return redirect(back)
    until = None
    if form.until.data:
        until = datetime.combine(form.until.data, time.max, tzinfo=UTC)
    try:
        ban = ban_service.ban_from_comment(
            current_user, comment, BanKind(form.kind.data), until, form.reason.data
        )
    except ValidationFailed as error:
        for message in error.fields.values():
            flash(message, "error")
        return redirect(back)
    flash(f"Banned {ban.kind.value} {ban.value}.", "info")
    return redirect(back)

"""The review queue: tabs, filters, decisions one by one or in bulk, and bans
from a comment (the bans page and the audit trail: audit_views). Works without
JavaScript (form posts and redirects); with htmx a decision or its undo answers
with a fragment of out-of-band swaps instead, and static/moderation.js adds keys,
focus and the selected count."""

import re
from datetime import UTC, datetime, time
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from ..accounts.moderation import accounts_by_id
from ..comments import bans as ban_service
from ..comments import closing, undo
from ..comments import reports as report_service
from ..comments.access import NotAllowed, UnknownComment, can_moderate, get_comment_for
from ..comments.cursors import BadCursor
from ..comments.errors import ThreadNotFound, ValidationFailed
from ..comments.moderation import ACTIONS, Target, describe, moderate
from ..comments.queue import (
    SORTS,
    QueueFilters,
    QueuePage,
    author_history,
    awaiting_revisions,
    pending_count,
    queue_page,
    reported_count,
)
from ..comments.reasons import (
    as_sentences,
    explain,
    explain_waiting,
    held_reasons,
    is_warning,
)
from ..extensions import db
from ..ids import bounded_id
from ..models import BanKind, Comment, CommentStatus, Thread
from . import bp
from .forms import BanForm, DecisionForm, EmptyForm, refusal
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

bp.add_app_template_filter(held_reasons, "held_reasons")
bp.add_app_template_filter(explain, "explain")
bp.add_app_template_filter(explain_waiting, "explain_waiting")
bp.add_app_template_filter(as_sentences, "as_sentences")
bp.add_app_template_global(is_warning, "held_warning")


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
    # An order this page does not offer is the tab's own (time) order.
    sort = request.args.get("sort", "")
    sort = sort if sort in SORTS else ""
    code = 200
    try:
        page = queue_page(
            current_user, status, filters, request.args.get("after"), sort=sort
        )
    except BadCursor:
        # A page link no page made (edited, or forged): say so, show nothing.
        flash("That page link is not valid: start from the tab's first page.", "error")
        code, page = 422, QueuePage([], None)
    return render_template(
        "moderation/queue.html",
        **_cards_context(status, filters, page),
        sites=visible_sites(),
        sort=sort,
        form=DecisionForm(),
        ban_form=BanForm(),
        logout_form=EmptyForm(),
    ), code


def _cards_context(status, filters: QueueFilters, page: QueuePage) -> dict:
    """What the tabs and the comment cards need, for the whole page and for
    the fragment a decision made in place answers with."""
    return {
        "status": status or REPORTED,
        "tabs": [*TABS, REPORTED],
        "pending": pending_count(current_user),
        "reported": reported_count(current_user),
        "filters": filters,
        "page": page,
        "actions": ACTIONS,
        "thread_closed": _thread_closed(page.comments),
    }


def _thread_closed(comments) -> dict[int, bool]:
    """Whether each comment's thread is closed, by thread id."""
    return {c.thread_id: closing.is_closed(c.site, c.thread) for c in comments}


@bp.post("/threads/<int:thread_id>/comments-open")
@login_required
def thread_open(thread_id: int):
    """Open or close a thread to new comments (``state``: open, closed), or let
    it follow its site's rule again (site)."""
    back = safe_next(request.form.get("next")) or url_for("moderation.queue")
    thread = db.session.get(Thread, thread_id)
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
    name = thread.title or key
    try:
        closing.set_open(slug, key, closing.STATES[state], current_user)
    except ThreadNotFound:
        abort(404)
    said = {
        "open": "open to new comments",
        "closed": "closed to new comments",
        "site": "following the site's rule again",
    }[state]
    flash(f"\u201c{name}\u201d is {said}.", "info")
    return redirect(back)


_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def _parse_target(raw: str) -> Target | None:
    """*raw* (``<id>:<version>``, ASCII digits) as a target, or None if it is
    not one. A number past the INTEGER columns (which the database refuses)
    names no comment, or no version it ever had: it becomes 0, so the decision
    answers as for an unknown comment, or as a conflict."""
    ident, _, version = raw.partition(":")
    if not (_DIGITS.fullmatch(ident) and _DIGITS.fullmatch(version)):
        return None
    return Target(bounded_id(ident) or 0, bounded_id(version) or 0)


def _in_place() -> bool:
    """Whether htmx asked (answer with a fragment, not a redirect)."""
    return request.headers.get("HX-Request") == "true"


def _page_state(back: str) -> tuple[CommentStatus | None, QueueFilters]:
    """The tab and filters of the queue page *back* (where the request came from)."""
    args = dict(parse_qsl(urlsplit(back).query))
    value = args.get("status", "pending")
    try:
        status = None if value == REPORTED else CommentStatus(value)
    except ValueError:
        status = CommentStatus.PENDING
    values = {
        k: (args.get(k) or "").replace("\x00", "").strip()[:254] or None
        for k in FILTER_FIELDS
    }
    return status, QueueFilters(**values)


def _answer(back: str, messages: list, cards=(), gone=(), notes=None, restored=()):
    """Without htmx: flash *messages* and go back. With htmx: a fragment of
    out-of-band swaps: the *cards* re-rendered (or removed, the ids in *gone*,
    with *notes* shown in cards), the tab counts and the flash area."""
    if not _in_place():
        for category, message in messages:
            flash(message, category)
        return redirect(back)
    status, filters = _page_state(back)
    comments = list(cards)
    page = QueuePage(comments, None, author_history(current_user, comments))
    if status is None:
        page.reports = report_service.summaries([c.id for c in comments])
    page.revisions = awaiting_revisions(comments)
    page.accounts = accounts_by_id(c.account_id for c in comments)
    return render_template(
        "moderation/_queue_update.html",
        **_cards_context(status, filters, page),
        gone=set(gone),
        notes=notes or {},
        restored=set(restored),
        messages=messages,
        back=back,
        oob=True,
    )


def _belongs(comment: Comment, status: CommentStatus | None) -> bool:
    # The Reported tab loses a comment once decided: its reports are settled.
    return status is not None and comment.status == status


def _undo_button(token: str | None) -> Markup:
    if not token:
        return Markup("")
    return Markup(
        ' <button type="submit" form="undo" name="token" value="{}" '
        'class="secondary undo" data-undo data-seconds="{}">Undo</button>'
    ).format(token, undo.UNDO_SECONDS)


def _lower(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


DONE = {
    "approve": "Approved",
    "reject": "Rejected",
    "spam": "Marked as spam",
    "delete": "Deleted",
    "pending": "Moved back to pending",
}


def _decided_message(action: str, changed: list[Comment], token: str | None):
    if len(changed) == 1:
        what = _lower(describe(changed[0]))
    else:
        what = f"{len(changed)} comments"
    return Markup("{} {}.").format(DONE[action], what) + _undo_button(token)


@bp.post("/decide")
@login_required
def decide():
    """Apply an action to one comment or to the ticked ones. With htmx the
    answer is a fragment (the cards, the counts, the flash with its Undo)."""
    form = DecisionForm()
    back = safe_next(request.form.get("next")) or url_for("moderation.queue")
    if not form.validate_on_submit():
        return _answer(back, [("error", refusal(form))])
    one = request.form.get("one", "")
    if one:
        action, _, raw_target = one.partition(":")
        targets = [_parse_target(raw_target)]
    else:
        action = request.form.get("bulk", "")
        targets = [_parse_target(raw) for raw in request.form.getlist("selected")]
    if action not in ACTIONS or None in targets:
        return _answer(back, [("error", "Unknown action.")])
    if not targets:
        return _answer(back, [("error", "Select at least one comment.")])
    try:
        decision = moderate(current_user, targets, ACTIONS[action], form.reason.data)
    except (NotAllowed, UnknownComment):
        abort(403)
    except ValueError as error:
        return _answer(back, [("error", str(error))])
    status, _ = _page_state(back)
    changed = _comments(decision.changed)
    messages = []
    if changed:
        token = undo.token_for(current_user, decision)
        messages.append(("info", _decided_message(action, changed, token)))
    conflicted = _comments([c.comment_id for c in decision.conflicts])
    notes = {c.comment_id: c.message() for c in decision.conflicts}
    messages += [("warning", message) for message in notes.values()]
    answer = _answer(
        back,
        messages,
        cards=changed + conflicted,
        gone=[c.id for c in changed if not _belongs(c, status)],
        notes=notes,
    )
    if _in_place():
        # The Reason was for this decision: the page empties its field.
        answer = make_response(answer)
        answer.headers["HX-Trigger"] = "decided"
    return answer


def _comments(ids) -> list[Comment]:
    """The comments *ids*, fresh from the database, in that order."""
    if not ids:
        return []
    found = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Comment)
            .where(Comment.id.in_(list(ids)))
            .execution_options(populate_existing=True)
        )
    }
    return [found[i] for i in ids if i in found]


@bp.post("/undo")
@login_required
def undo_decision():
    """Undo the moderator's last decision (the token its message carried)."""
    back = safe_next(request.form.get("next")) or url_for("moderation.queue")
    if not EmptyForm().validate_on_submit():
        return _answer(back, [("error", "The form expired; please try again.")])
    try:
        decision = undo.undo(current_user, request.form.get("token", ""))
    except undo.UndoRefused as refused:
        return _answer(back, [("error", str(refused))])
    except (NotAllowed, UnknownComment):
        abort(403)
    changed = _comments(decision.changed)
    messages = [
        ("info", f"Undone: {_lower(describe(c))} is {c.status.value} again.")
        for c in changed
    ]
    notes = {
        c.comment_id: f"{describe(c)} changed since (it is now {c.status.value}"
        f"{' by ' + c.moderated_by if c.moderated_by else ''}): not undone."
        for c in decision.conflicts
    }
    messages += [("warning", message) for message in notes.values()]
    conflicted = _comments(list(notes))
    return _answer(
        back,
        messages,
        cards=changed + conflicted,
        notes=notes,
        restored=[c.id for c in changed],
    )


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
        count = report_service.dismiss(current_user, comment_id)
        comment = get_comment_for(current_user, comment_id)
    except (NotAllowed, UnknownComment):
        abort(403)
    reports = f"{count} report{'s' if count != 1 else ''}"
    flash(f"{reports} on {_lower(describe(comment))} dismissed.", "info")
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
        flash(f"Please check the ban form. {refusal(form)}", "error")
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
    flash(
        f"Banned {ban.kind.value} {ban.value} (from {_lower(describe(comment))}).",
        "info",
    )
    return redirect(back)

"""Deciding an author's edit of a published comment (a revision) from its
card in the queue: Approve publishes the new text, Reject keeps the approved
one. Like the other decisions, a form post and a redirect without JavaScript,
a fragment of out-of-band swaps with htmx."""

from flask import abort, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from ..comments import revisions
from ..comments.access import NotAllowed
from ..comments.moderation import describe
from ..extensions import db
from ..ids import bounded_id
from ..models import CommentRevision
from . import bp
from .forms import DecisionForm, refusal
from .queue_views import _answer, _belongs, _comments, _lower, _page_state
from .views import safe_next

bp.add_app_template_global(revisions.word_diff, "word_diff")


@bp.post("/revisions/<int:revision_id>/decide")
@login_required
def decide_revision(revision_id: int):
    """Approve or reject an edit awaiting moderation (``revision`` is
    ``approve:<version>`` or ``reject:<version>``, the version the moderator
    saw: a later edit by the author is a conflict, never approved unseen)."""
    form = DecisionForm()
    back = safe_next(request.form.get("next")) or url_for("moderation.queue")
    if not form.validate_on_submit():
        return _answer(back, [("error", refusal(form))])
    action, _, raw_version = request.form.get("revision", "").partition(":")
    version = bounded_id(raw_version)
    if action not in ("approve", "reject") or version is None:
        return _answer(back, [("error", "Unknown action.")])
    try:
        decision = revisions.decide(
            current_user,
            revision_id,
            version,
            action == "approve",
            form.reason.data,
        )
    except revisions.UnknownRevision:
        abort(404)
    except NotAllowed:
        abort(403)
    except revisions.RevisionConflict as conflict:
        revision = db.session.get(CommentRevision, revision_id)
        cards = _comments([revision.comment_id]) if revision else []
        notes = {c.id: str(conflict) for c in cards}
        return _answer(back, [("warning", str(conflict))], cards=cards, notes=notes)
    comment = decision.comment
    status, _ = _page_state(back)
    done = "Approved the edit of" if decision.approved else "Rejected the edit of"
    message = Markup("{} {}.").format(done, _lower(describe(comment)))
    cards = _comments([comment.id])
    # The Pending tab showed it for its edit: decided, it leaves.
    gone = [c.id for c in cards if not _belongs(c, status)]
    return _answer(back, [("info", message)], cards=cards, gone=gone)

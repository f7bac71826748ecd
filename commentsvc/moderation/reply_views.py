"""A moderator answers a comment from its page, as staff: the reply goes
through the same post path as a reader's (comments.service.submit_comment),
as the moderator's staff account of the site (accounts.staff_reader), so it
is published at once with the Staff badge unless a rule holds it.

A pending comment is approved first (the button says "Approve and reply"):
a reply is public, and the post path refuses replies to comments readers
cannot see; a moderator who answers in public has judged the comment fit to
be shown. The approval is a decision like any other (audited, undoable from
the queue) and is conditional on the version the moderator saw.
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from .. import accounts
from ..comments.access import NotAllowed, UnknownComment, get_comment_for
from ..comments.errors import ThreadClosed, ValidationFailed
from ..comments.moderation import Target, moderate
from ..comments.reasons import why_waiting
from ..comments.service import ClientInfo, Submission, submit_comment
from ..extensions import db
from ..ids import bounded_id
from ..inputrules import text_problem
from ..models import Comment, CommentStatus
from ..ratelimit import client_ip
from . import bp
from .audit_views import comment_page
from .forms import refusal
from .reader_forms import ReplyForm


def _refuse(comment_id: int, form: ReplyForm, message: str):
    """Show the comment's page again with *message* and the reply as typed."""
    flash(message, "error")
    return comment_page(comment_id, reply_form=form, status=422)


@bp.post("/comments/<int:comment_id>/reply")
@login_required
def staff_reply(comment_id: int):
    """Reply to the comment as staff; a pending comment is approved first."""
    try:
        comment = get_comment_for(current_user, comment_id)
    except UnknownComment:
        abort(404)
    except NotAllowed:
        abort(403)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _refuse(comment_id, form, refusal(form))
    body = form.body.data.strip()
    problem = text_problem(body, multiline=True)
    if problem or len(body) > comment.site.max_length:
        return _refuse(
            comment_id,
            form,
            problem or f"Keep replies under {comment.site.max_length} characters.",
        )
    if comment.status == CommentStatus.PENDING:
        seen = bounded_id(request.form.get("version", "")) or 0
        decision = moderate(
            current_user,
            [Target(comment.id, seen)],
            CommentStatus.APPROVED,
            "Approved to reply as staff",
        )
        if decision.conflicts:
            return _refuse(
                comment_id,
                form,
                decision.conflicts[0].message()
                + " Your reply was not posted: read the comment again.",
            )
    elif comment.status != CommentStatus.APPROVED:
        return _refuse(
            comment_id,
            form,
            f"This comment is {comment.status.value}: only a published comment "
            "(or a pending one, approved as you reply) can be answered.",
        )
    site, thread = comment.site, comment.thread
    reader = accounts.staff_reader(site.id, current_user)
    submission = Submission(
        thread=thread.key,
        url=thread.url,
        author=reader.name,
        body=body,
        parent_id=comment.id,
        reader=reader,
        # A moderator is not asked to reconsider their own words.
        post_anyway=True,
    )
    client = ClientInfo(ip=client_ip(), user_agent=request.user_agent.string)
    try:
        stored = submit_comment(site, submission, client)
    except ThreadClosed:
        return _refuse(
            comment_id,
            form,
            "This page is closed to new comments: open it to reply.",
        )
    except ValidationFailed as error:
        return _refuse(comment_id, form, " ".join(error.fields.values()))
    if stored.status == CommentStatus.APPROVED:
        flash(f"Your reply #{stored.id} is published, with the Staff badge.", "info")
    else:
        held = " ".join(why_waiting(db.session.get(Comment, stored.id)))
        flash(f"Your reply #{stored.id} is {stored.status.value}: {held}", "warning")
    return redirect(url_for("moderation.comment", comment_id=stored.id))

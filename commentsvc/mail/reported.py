"""The mail to moderators when readers' reports of a comment reach the site's
threshold (kind ``moderator_reported``): what it says, rendered from what is
stored now (reports settled meanwhile send nothing)."""

from ..comments.reports import moderator_approved, summaries
from ..extensions import db
from ..models import Comment, CommentStatus, Site
from . import links
from .strings import t


def reported_view(comment_id: int, site: Site) -> tuple[str, dict] | None:
    """The subject and template values of the mail about *comment_id*, or None
    when it has no open reports any more."""
    comment = db.session.get(Comment, comment_id)
    summary = summaries([comment_id]).get(comment_id) if comment else None
    if summary is None:
        return None
    if comment.status == CommentStatus.APPROVED:
        state = "reported_kept" if moderator_approved(comment) else "reported_open"
    else:
        state = "reported_hidden"
    subject = t("subject_moderator_reported", site=site.name, author=comment.author)
    return subject, {
        "comment": comment,
        "thread": comment.thread,
        "report": summary,
        "state": state,
        "queue_url": links.external_url("moderation.queue", status="reported"),
    }

"""A reader edits or deletes their own comment, from the browser that posted
it, within the site's edit window.

The post's answer carries a secret edit token (only its hash is stored). An
edit runs the spam rules that read the text again (links, words, bans, the
learning filter) and the site's moderation policy: a published comment the
rules would hold goes back to Pending, one they call spam to Spam; a clean edit
leaves a published comment published and may publish a pending one where the
site trusts its author (never one that readers' open reports hold). Status and
text change together through commentsvc.comments.moderation (audited, with
``comment.edited`` / ``comment.deleted`` webhook events).
"""

import hmac
from datetime import timedelta

from .. import spam
from ..extensions import db
from ..models import Comment, CommentStatus, Site, as_utc, utcnow
from ..spam import rules
from ..spam.verdict import Verdict
from ..webhooks.outbox import COMMENT_EDITED
from .access import UnknownComment
from .bans import active_ban
from .errors import ValidationFailed
from .moderation import change_by_system
from .render import render_body
from .reports import has_open_reports
from .service import MAX_HTML_BYTES, edit_token_hash

EDITED = "edited by its author"
DELETED = "deleted by its author"
# What an author may still change: not what a moderator took down.
EDITABLE = (CommentStatus.PENDING, CommentStatus.APPROVED)


class EditRefused(PermissionError):
    """The edit or deletion is not allowed; ``code`` says why (the API's)."""

    MESSAGES = {
        "edit_token_invalid": "This browser cannot change this comment.",
        "edit_window_closed": "The time to change this comment is over.",
        "edit_conflict": "The comment changed meanwhile: please reload and retry.",
    }

    def __init__(self, code: str):
        super().__init__(self.MESSAGES[code])
        self.code = code


def _editable(site: Site, comment_id: int, token: str | None) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.site_id != site.id or comment.status not in EDITABLE:
        raise UnknownComment(comment_id)
    if not (
        token
        and comment.edit_token_hash
        and hmac.compare_digest(edit_token_hash(token), comment.edit_token_hash)
    ):
        raise EditRefused("edit_token_invalid")
    window = timedelta(seconds=site.edit_window_seconds)
    if not window or utcnow() > as_utc(comment.created_at) + window:
        raise EditRefused("edit_window_closed")
    return comment


def edit_comment(
    site: Site, comment_id: int, token: str | None, body: str, ip: str | None
) -> Comment:
    """Replace the text of a comment by its author; returns it as stored.

    Raises:
        UnknownComment: no such comment on this site that its author may change.
        EditRefused: a missing or wrong token, the window is over, or the
            comment changed in between.
        ValidationFailed: the formatted body is too long.
    """
    comment = _editable(site, comment_id, token)
    body_html = render_body(body)
    if len(body_html.encode()) > MAX_HTML_BYTES:
        raise ValidationFailed(
            {"body": "This comment is too long once formatted: please shorten it."}
        )
    verdict = Verdict()
    rules.check_links(site, body, comment.author, verdict)
    rules.check_words(
        site, comment.author, comment.email, body, comment.thread.url, verdict
    )
    spam.check_learned(site, comment.author, body, verdict)
    ban = active_ban(site, comment.email, ip)
    if ban is not None:
        verdict.spam("banned", {"kind": ban.kind.value, "value": ban.value})
    if verdict.is_spam:
        to_status = CommentStatus.SPAM
    elif verdict.held:
        to_status = CommentStatus.PENDING
    elif comment.status == CommentStatus.APPROVED:
        to_status = CommentStatus.APPROVED
    elif has_open_reports(comment.id):
        # Reports sent it back to Pending until a moderator decides: an edit
        # by its (trusted) author is no decision.
        to_status = CommentStatus.PENDING
    else:
        spam.publish_if_trusted(site, comment.email, verdict)
        to_status = verdict.status
    values = {
        "body": body,
        "body_html": body_html,
        "body_hash": rules.body_digest(body),
        "edited_at": utcnow(),
        # What the rules said of the text as edited, beside what they said at
        # posting (moderators see both).
        "signals": {**(comment.signals or {}), "edit": verdict.signals},
    }
    if not change_by_system(
        comment.id, comment.version, to_status, EDITED, COMMENT_EDITED, values
    ):
        raise EditRefused("edit_conflict")
    db.session.expire(comment)
    return comment


def delete_comment(site: Site, comment_id: int, token: str | None) -> None:
    """Delete a comment at its author's request (its published replies stay,
    under a "[deleted]" placeholder in the listing).

    Raises:
        UnknownComment: no such comment on this site that its author may change.
        EditRefused: a missing or wrong token, the window is over, or the
            comment changed in between.
    """
    comment = _editable(site, comment_id, token)
    if not change_by_system(
        comment.id, comment.version, CommentStatus.DELETED, DELETED
    ):
        raise EditRefused("edit_conflict")

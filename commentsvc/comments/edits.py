"""A reader edits or deletes their own comment, from the browser that posted
it, within the site's edit window (counted from posting, never from the last
edit).

The post's answer carries a secret edit token (only its hash is stored). An
edit runs the spam rules that read the text again (links, words, bans, the
learning filter) and the site's moderation policy, as a post would:
- one the rules call spam sends the comment to Spam (published or not);
- a pending comment's text is replaced (still pending, or published where the
  site trusts its author and nothing held it, unless readers' open reports
  hold it);
- a published comment keeps its approved text: the edit waits as a revision
  for a moderator (commentsvc.comments.revisions), unless the site publishes
  this author's clean posts at once, when it is published as a post would be.
Status and text change together through commentsvc.comments.moderation
(audited, with ``comment.edited`` / ``comment.deleted`` webhook events).
"""

import hmac
from dataclasses import dataclass
from datetime import timedelta

from .. import accounts, spam
from ..extensions import db
from ..models import Comment, CommentStatus, Site, as_utc, utcnow
from ..spam import rules
from ..spam.verdict import Verdict
from ..webhooks.outbox import COMMENT_EDITED
from . import revisions
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


@dataclass(frozen=True)
class Edited:
    """An edit as stored: the comment as readers now have it and whether the
    edit waits for a moderator (a revision; readers keep the approved text)."""

    comment: Comment
    awaiting_moderation: bool = False


def _verdict(site: Site, comment: Comment, body: str, ip: str | None) -> Verdict:
    """The spam rules that read the text, the learned models and bans (an
    edit is never nudged: likely to be rejected, it is held where the site
    holds or nudges)."""
    verdict = Verdict()
    rules.check_links(site, body, comment.author, verdict)
    rules.check_words(
        site, comment.author, comment.email, body, comment.thread.url, verdict
    )
    spam.check_learned(site, comment.author, body, verdict)
    spam.check_rejected(site, comment.author, body, verdict)
    ban = active_ban(site, comment.email, ip)
    if ban is not None:
        verdict.spam("banned", {"kind": ban.kind.value, "value": ban.value})
    return verdict


def _published_at_once(site: Site, comment: Comment, verdict: Verdict) -> bool:
    """Whether an edit of a published comment is published as a post would be:
    clean (nothing held it), by an author the site trusts, and no open reports
    on the comment."""
    _trust(site, comment, verdict)
    return verdict.status == CommentStatus.APPROVED and not has_open_reports(comment.id)


def _trust(site: Site, comment: Comment, verdict: Verdict) -> None:
    """Publish as a post would be: by the account's history where a signed-in
    reader wrote it, else by the address's."""
    if comment.account_id is not None:
        accounts.judge_account(site, comment.account_id, verdict)
    else:
        spam.publish_if_trusted(site, comment.email, verdict)


def edit_comment(
    site: Site, comment_id: int, token: str | None, body: str, ip: str | None
) -> Edited:
    """Replace the text of a comment by its author (or, for a published
    comment, propose it to the moderators); returns what readers now have.

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
    verdict = _verdict(site, comment, body, ip)
    if verdict.is_spam:
        to_status = CommentStatus.SPAM
    elif comment.status == CommentStatus.APPROVED:
        if not _published_at_once(site, comment, verdict):
            revisions.propose(comment, body, body_html, verdict.signals)
            return Edited(comment, awaiting_moderation=True)
        to_status = CommentStatus.APPROVED
    elif verdict.held or has_open_reports(comment.id):
        # Reports sent it back to Pending until a moderator decides: an edit
        # by its (trusted) author is no decision.
        to_status = CommentStatus.PENDING
    else:
        _trust(site, comment, verdict)
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
    # This text replaces the comment's: an edit waiting for a moderator is moot.
    revisions.discard_pending(comment.id)
    # The new words' signature, committed (or rolled back) with them.
    spam.resign(site.id, comment.id, body)
    if not change_by_system(
        comment.id, comment.version, to_status, EDITED, COMMENT_EDITED, values
    ):
        raise EditRefused("edit_conflict")
    db.session.expire(comment)
    return Edited(comment)


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

"""Undo of a moderator's last decision, for a few seconds after it.

The decision's view hands the moderator a signed token naming what changed
(each comment's version after the decision and its state before). An undo is
a decision like any other (comments.moderation makes the status change, with
its audit row, webhook event and the learning filter's wake-up) that puts the
state back, refused when the token is too old or the comment changed since.
"""

import time
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..extensions import db
from ..models import CommentStatus, Moderator, utcnow
from . import moderation

# How long a decision can be undone, in seconds (the page shows the Undo button
# as long; the server allows a little more for the click to arrive).
UNDO_SECONDS = 10
GRACE_SECONDS = 5
# Larger decisions are not undone in one click (the token travels in a form
# and, without JavaScript, in the session cookie's flashed message).
MAX_UNDO = 25
_SALT = "commentsvc.undo"


class UndoRefused(Exception):
    """The undo cannot be done; the message says why, for the moderator."""


class UndoExpired(UndoRefused):
    """The decision is older than the undo window."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _clock() -> float:
    return time.time()


def _stamp(when: datetime | None) -> float | None:
    return when.replace(tzinfo=when.tzinfo or UTC).timestamp() if when else None


def token_for(moderator: Moderator, decision: moderation.Decision) -> str | None:
    """A token that undoes *decision* for *moderator* (None: nothing to undo, or
    too many comments)."""
    if not decision.previous or len(decision.previous) > MAX_UNDO:
        return None
    entries = [
        [
            p.comment_id,
            p.version,
            p.from_status.value,
            p.to_status.value,
            _stamp(p.moderated_at),
            p.moderated_by_id,
        ]
        for p in decision.previous
    ]
    return _serializer().dumps({"m": moderator.id, "t": _clock(), "c": entries})


def _read(moderator: Moderator, token: str) -> list[moderation.Previous]:
    try:
        data = _serializer().loads(token or "")
        if data["m"] != moderator.id:
            raise UndoRefused("This undo belongs to another moderator's decision.")
        if _clock() - float(data["t"]) > UNDO_SECONDS + GRACE_SECONDS:
            raise UndoExpired(
                f"Too late to undo: a decision can be undone for {UNDO_SECONDS} "
                "seconds. Decide again instead."
            )
        return [
            moderation.Previous(
                int(ident),
                int(version),
                CommentStatus(was),
                CommentStatus(now),
                datetime.fromtimestamp(at, UTC) if at is not None else None,
                by,
            )
            for ident, version, was, now, at, by in data["c"]
        ]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise UndoRefused("This undo link is not valid.") from None


def undo(moderator: Moderator, token: str) -> moderation.Decision:
    """Undo the decision *token* names: each comment back to its state before,
    unless it changed since (then a conflict, left as it is).

    Raises:
        UndoExpired: the decision is older than the undo window.
        UndoRefused: the token is not valid or not this moderator's.
        UnknownComment: a comment no longer exists.
        NotAllowed: the moderator no longer moderates a comment's site.
    """
    return restore(moderator, _read(moderator, token))


def restore(
    moderator: Moderator, previous: list[moderation.Previous], reason: str = "undo"
) -> moderation.Decision:
    """Undo decisions: put each comment back to the status it had, with who
    had decided it then (``moderated_at``/``moderated_by``), as long as it is
    still at the version the decision left it at; one transaction, an audit
    row (*reason*) and the webhook event of the status it returns to, as any
    decision. Restoring "nobody had decided" takes the comment out of the
    learning filter's labels again (it learns from moderated comments only),
    and the worker is woken to retrain on the corrected decisions. Reports the
    decision settled stay settled; mail it queued is not recalled.

    Raises:
        UnknownComment: a comment does not exist.
        NotAllowed: a comment belongs to a site the moderator does not moderate.
    """
    decision = moderation.Decision()
    effects = moderation.Effects()
    try:
        comments = moderation.load_for(moderator, [p.comment_id for p in previous])
        now = utcnow()
        for undo in previous:
            comment = comments[undo.comment_id]
            done = None
            if comment.status == undo.to_status:
                values = {
                    "moderated_at": undo.moderated_at,
                    "moderated_by_id": undo.moderated_by_id,
                }
                done = moderation.change_status(
                    moderator,
                    comment,
                    undo.version,
                    undo.from_status,
                    values,
                    reason,
                    now,
                    effects,
                    mail_readers=False,
                )
            if done is None:
                db.session.expire(comment)
                decision.conflicts.append(moderation.conflict_of(comment))
                continue
            decision.changed.append(comment.id)
            decision.previous.append(done)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if decision.changed:
        moderation.after_commit(effects)
    return decision

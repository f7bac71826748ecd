"""The transactional outbox: webhook events written in the transaction of the
change they report, with one delivery row per subscribed endpoint.

Nothing here commits: the caller's transaction either stores the change and its
events together, or neither.
"""

import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Comment,
    CommentStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    iso8601,
    utcnow,
)

COMMENT_CREATED = "comment.created"
# Readers' doings that change no status (or not only it): a report, an edit.
COMMENT_REPORTED = "comment.reported"
COMMENT_EDITED = "comment.edited"
PING = "ping"
# The event a status change sends; back to pending sends none.
STATUS_EVENTS = {
    CommentStatus.APPROVED: "comment.approved",
    CommentStatus.REJECTED: "comment.rejected",
    CommentStatus.SPAM: "comment.spam",
    CommentStatus.DELETED: "comment.deleted",
}
EVENT_TYPES = (
    COMMENT_CREATED,
    *STATUS_EVENTS.values(),
    COMMENT_REPORTED,
    COMMENT_EDITED,
    PING,
)


def comment_payload(comment, thread, site_slug: str) -> dict:
    """What a site owner learns about a comment: never the IP address.

    *comment* is a stored comment (the model or the service's StoredComment),
    *thread* anything with its key, url and title.
    """
    return {
        "comment": {
            "id": comment.id,
            "parent_id": comment.parent_id,
            "author": comment.author,
            "email": comment.email,
            "body": comment.body,
            "html": comment.body_html,
            "status": comment.status.value,
            "created_at": iso8601(comment.created_at),
            "moderated_at": iso8601(comment.moderated_at),
            "edited_at": iso8601(getattr(comment, "edited_at", None)),
        },
        "thread": {
            "key": thread.key,
            "url": thread.url,
            "title": thread.title,
        },
        "site": site_slug,
    }


def _subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return event_type == PING or not endpoint.events or event_type in endpoint.events


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


# Built once: the post path runs these for every comment (Core statements on the
# session's connection skip the ORM's unit of work, a third of a post's CPU).
_INSERT_EVENT = sa.insert(WebhookEvent.__table__).returning(WebhookEvent.__table__.c.id)
_INSERT_DELIVERY = sa.insert(WebhookDelivery.__table__)
_ENABLED_ENDPOINTS = sa.select(
    WebhookEndpoint.__table__.c.id, WebhookEndpoint.__table__.c.events
).where(
    WebhookEndpoint.__table__.c.site_id == sa.bindparam("site_id"),
    WebhookEndpoint.__table__.c.enabled.is_(True),
)


@dataclass(frozen=True)
class RecordedEvent:
    id: int
    deliveries: int  # how many endpoints will be sent it: none, no wake-up needed


def record_event(
    site_id: int,
    event_type: str,
    data: dict,
    endpoints: list | None = None,
) -> RecordedEvent:
    """Add an event and its deliveries to the current transaction (no commit).

    *endpoints* (anything with ``id`` and ``events``) defaults to the site's
    enabled endpoints subscribed to the type.
    """
    now = utcnow()
    connection = db.session.connection()
    event_id = connection.execute(
        _INSERT_EVENT,
        {
            "site_id": site_id,
            "type": event_type,
            "payload": {"type": event_type, "timestamp": iso8601(now), "data": data},
            "created_at": now,
        },
    ).scalar_one()
    if endpoints is None:
        endpoints = connection.execute(_ENABLED_ENDPOINTS, {"site_id": site_id}).all()
    deliveries = [
        {
            "endpoint_id": endpoint.id,
            "event_id": event_id,
            "message_id": new_message_id(),
            "next_attempt_at": now,
            "created_at": now,
        }
        for endpoint in endpoints
        if _subscribed(endpoint, event_type)
    ]
    if deliveries:
        connection.execute(_INSERT_DELIVERY, deliveries)
    return RecordedEvent(event_id, len(deliveries))


def record_comment_event(comment: Comment, event_type: str) -> RecordedEvent:
    """Record *event_type* for the stored *comment* in the current transaction."""
    return record_event(
        comment.site_id,
        event_type,
        comment_payload(comment, comment.thread, comment.site.slug),
    )

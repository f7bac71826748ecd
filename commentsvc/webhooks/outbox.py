"""The transactional outbox: webhook events written in the transaction of the
change they report, with one delivery row per subscribed endpoint.

Nothing here commits: the caller's transaction either stores the change and its
events together, or neither.
"""

import secrets

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Comment,
    CommentStatus,
    Site,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    iso8601,
    utcnow,
)

COMMENT_CREATED = "comment.created"
PING = "ping"
# The event a status change sends; back to pending sends none.
STATUS_EVENTS = {
    CommentStatus.APPROVED: "comment.approved",
    CommentStatus.REJECTED: "comment.rejected",
    CommentStatus.SPAM: "comment.spam",
    CommentStatus.DELETED: "comment.deleted",
}
EVENT_TYPES = (COMMENT_CREATED, *STATUS_EVENTS.values(), PING)


def comment_payload(comment: Comment) -> dict:
    """What a site owner learns about a comment: never the IP address."""
    thread = comment.thread
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
        },
        "thread": {
            "key": thread.key,
            "url": thread.url,
            "title": thread.title,
        },
        "site": comment.site.slug,
    }


def _subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return event_type == PING or not endpoint.events or event_type in endpoint.events


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def record_event(
    site: Site,
    event_type: str,
    data: dict,
    endpoints: list[WebhookEndpoint] | None = None,
) -> WebhookEvent:
    """Add an event and its deliveries to the current transaction (no commit).

    *endpoints* defaults to the site's enabled endpoints subscribed to the type.
    """
    now = utcnow()
    event = WebhookEvent(
        site_id=site.id,
        type=event_type,
        payload={"type": event_type, "timestamp": iso8601(now), "data": data},
        created_at=now,
    )
    db.session.add(event)
    if endpoints is None:
        endpoints = list(
            db.session.scalars(
                sa.select(WebhookEndpoint).where(
                    WebhookEndpoint.site_id == site.id,
                    WebhookEndpoint.enabled.is_(True),
                )
            )
        )
    for endpoint in endpoints:
        if _subscribed(endpoint, event_type):
            db.session.add(
                WebhookDelivery(
                    endpoint=endpoint,
                    event=event,
                    message_id=new_message_id(),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    return event


def record_comment_event(comment: Comment, event_type: str) -> WebhookEvent:
    """Record *event_type* for *comment* in the current transaction."""
    return record_event(comment.site, event_type, comment_payload(comment))

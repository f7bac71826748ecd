"""Which comments a moderator may see and act on: an admin every site's, a
moderator those of the sites assigned to them. Every query of the moderation
side goes through here."""

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, Moderator, Role, moderator_sites


class NotAllowed(PermissionError):
    """The moderator may not act on (or see) a comment of this site."""


class UnknownComment(LookupError):
    """No comment has this id."""


def allowed_site_ids(moderator: Moderator) -> list[int] | None:
    """The sites *moderator* may moderate; None means every site (an admin)."""
    if moderator.role == Role.ADMIN:
        return None
    return list(
        db.session.scalars(
            sa.select(moderator_sites.c.site_id).where(
                moderator_sites.c.moderator_id == moderator.id
            )
        )
    )


def can_moderate(moderator: Moderator, site_id: int) -> bool:
    allowed = allowed_site_ids(moderator)
    return allowed is None or site_id in allowed


def visible_to(moderator: Moderator, query, site_column):
    """*query* restricted to the sites *moderator* moderates (all for an admin)."""
    allowed = allowed_site_ids(moderator)
    if allowed is None:
        return query
    return query.where(site_column.in_(allowed or [-1]))


def get_comment_for(moderator: Moderator, comment_id: int) -> Comment:
    """The comment, if *moderator* may see it.

    Raises:
        UnknownComment: no such comment.
        NotAllowed: it belongs to a site the moderator does not moderate.
    """
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise UnknownComment(comment_id)
    if not can_moderate(moderator, comment.site_id):
        raise NotAllowed(comment_id)
    return comment

"""A moderator answering from the queue posts as staff: through an account of
the site with provider "staff", subject the moderator's id, linked back by
moderator_id, so the reply goes through the same post path as any reader's
and carries the Staff badge."""

import sqlalchemy as sa

from ..extensions import db
from .readers import Reader, find_or_create

PROVIDER = "staff"


def staff_reader(site_id: int, moderator) -> Reader:
    """The reader *moderator* posts as on the site *site_id*: their staff
    account, created on first use, named after them (a moderator has a
    username and no other name). Commits.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    fields = (site_id, PROVIDER, str(moderator.id), moderator.username)
    try:
        account = find_or_create(*fields)
    except sa.exc.IntegrityError:
        # Two first replies of one moderator at once: the other created it.
        db.session.rollback()
        account = find_or_create(*fields)
    account.staff = True
    account.moderator_id = moderator.id
    db.session.commit()
    return Reader(
        account_id=account.id,
        name=account.name,
        # A moderator's address stays theirs: never on a comment.
        email=None,
        avatar=None,
        provider=PROVIDER,
        staff=True,
        # Logged in to the moderation UI, CSRF-checked: no captcha to ask.
        skip_captcha=True,
    )

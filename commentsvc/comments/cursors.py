"""What every keyset cursor (the public listing's, the queue's) is checked
against before any of it reaches the database.

A cursor comes back from the client, so it may be forged. Its ids must fit the
id columns (INTEGER: PostgreSQL refuses to compare one with a larger number,
which was a 500) and its time must be a datetime in UTC.
"""

import base64
from datetime import datetime

from .. import ids
from ..models import as_utc


class BadCursor(ValueError):
    """A cursor this server did not write (or for another thread or order)."""


# Longer than any cursor a page writes.
MAX_LENGTH = 200


def pack(*fields: str) -> str:
    """*fields* as one cursor (unpadded URL-safe base64 of "a|b|…")."""
    raw = "|".join(fields)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def unpack(cursor: str) -> list[str]:
    """The fields of a cursor :func:`pack` wrote (to be checked one by one).

    Raises:
        BadCursor: too long, or not base64 of text.
    """
    try:
        if len(cursor) > MAX_LENGTH:
            raise BadCursor("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadCursor(cursor) from None
    return raw.split("|")


def bounded_id(text: str, least: int = 1) -> int:
    """*text* as an id from *least* to MAX_ID.

    Raises:
        BadCursor: not a number a page writes, or out of that range.
    """
    value = ids.bounded_id(text, least)
    if value is None:
        raise BadCursor(text)
    return value


def utc_time(text: str) -> datetime:
    """*text* (ISO 8601; naive means UTC) as an aware UTC datetime. Any year
    from 1 to 9999 is a place a page may end: imports keep old dates.

    Raises:
        BadCursor: not a time, or past year 9999 (or before year 1) in UTC.
    """
    try:
        return as_utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):  # 9999-12-31T23:59-14:00 overflows
        raise BadCursor(text) from None

"""What every keyset cursor (the public listing's, the queue's) is checked
against before any of it reaches the database.

A cursor comes back from the client, so it may be forged. Its ids must fit the
id columns (INTEGER: PostgreSQL refuses to compare one with a larger number,
which was a 500) and its time must be a datetime in UTC.
"""

import re
from datetime import datetime

from ..models import as_utc

# The id columns are INTEGER (32-bit on PostgreSQL).
MAX_ID = 2**31 - 1
# What a page writes: no sign, no spaces, no "_", ASCII digits only (int()
# takes all of those), and no more digits than MAX_ID has.
_NUMBER = re.compile(r"0|[1-9][0-9]{0,9}", re.ASCII)


class BadCursor(ValueError):
    """A cursor this server did not write (or for another thread or order)."""


def bounded_id(text: str, least: int = 1) -> int:
    """*text* as an id from *least* to MAX_ID.

    Raises:
        BadCursor: not a number a page writes, or out of that range.
    """
    if not _NUMBER.fullmatch(text) or not least <= int(text) <= MAX_ID:
        raise BadCursor(text)
    return int(text)


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

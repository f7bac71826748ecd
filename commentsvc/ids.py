"""Ids that come from outside (a URL, a form field, a cursor) checked against
the id columns before any of them reaches the database.

The id columns are INTEGER: PostgreSQL refuses a larger number
(NumericValueOutOfRange) and SQLite's driver cannot bind one past 64 bits
(OverflowError); both were 500s. ``str.isdigit()`` and ``int()`` are no check
either: ``"²".isdigit()`` is true but ``int("²")`` fails, and ``int()`` takes
signs, spaces, "_" and non-ASCII digits.
"""

import re

# The id columns are INTEGER (32-bit on PostgreSQL).
MAX_ID = 2**31 - 1
# What a page writes: no sign, no spaces, no "_", ASCII digits only, and no
# more digits than MAX_ID has (so int() never sees a long string).
_NUMBER = re.compile(r"0|[1-9][0-9]{0,9}", re.ASCII)


def bounded_id(text: str, least: int = 1) -> int | None:
    """*text* as a number from *least* to MAX_ID, or None if it is not one
    (not ASCII digits as a page writes them, or out of that range). Raises nothing."""
    if not _NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if least <= value <= MAX_ID else None

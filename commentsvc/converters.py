"""The ``<int:...>`` URL converter every route uses, registered in
create_app() before any blueprint: an id that could never name a row matches
no route (a 404, the JSON envelope under /api/) instead of reaching the
database, which refused it with a 500.
"""

from flask import Flask
from werkzeug.routing import IntegerConverter

from .ids import MAX_ID


def _up_to(most: int) -> str:
    """A regex for the numbers 0 to *most* in at most as many digits (a larger
    one matches no route: a 404)."""
    text = str(most)
    shorter = f"[0-9]{{1,{len(text) - 1}}}" if len(text) > 1 else None
    branches = [shorter] if shorter else []
    for at, digit in enumerate(text):
        if digit != "0":
            rest = len(text) - at - 1
            branches.append(f"{text[:at]}[0-{int(digit) - 1}][0-9]{{{rest}}}")
    branches.append(text)
    return "(?:" + "|".join(branches) + ")"


class IdConverter(IntegerConverter):
    """``<int:...>`` in every URL: an id that fits the INTEGER columns, in
    ASCII digits, or the URL matches no route (a 404, JSON under /api/)
    instead of a database error. The range is in the regex, not a
    ``max=``: werkzeug answers a value its converter refuses with a 405 when
    another rule has the same path (the API's OPTIONS routes)."""

    regex = _up_to(MAX_ID)


def init_app(app: Flask) -> None:
    """Register the converter (before any route is added)."""
    app.url_map.converters["int"] = IdConverter

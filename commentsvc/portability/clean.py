"""Fields of an export cut to what our columns hold, and the shared bits of
parsing: dates, booleans, the thread key of a page."""

import ipaddress
from datetime import UTC, datetime
from urllib.parse import urlsplit


def clip(value: str | None, length: int) -> str | None:
    """*value* stripped and cut to *length* characters; None if empty."""
    if value is None:
        return None
    value = value.strip()
    return value[:length] or None


def checked(value: str | None, problem, length: int | None = None):
    """*value* stripped (and cut to *length*) held to one of the API's rules
    (commentsvc.inputrules): ``(value, False)`` if the rule takes it,
    ``(None, True)`` if it refuses it, ``(None, False)`` if it is empty."""
    value = (value or "").strip()[:length]
    if not value:
        return None, False
    if problem(value):
        return None, True
    return value, False


def clean_ip(value: str | None) -> str | None:
    value = clip(value, 64)
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def parse_date(value: str | None) -> datetime | None:
    """An ISO 8601 or ``YYYY-MM-DD HH:MM:SS`` date, as aware UTC (naive means
    UTC); None for an empty, zero (``0000-00-00 ...``) or unreadable one."""
    value = (value or "").strip()
    if not value or value.startswith("0000"):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # 9999-12-31T23:59-23:00 is past year 9999
        return None


def parse_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


# What a browser's URL parser percent-encodes in a path (the WHATWG "path
# percent-encode set"): controls, space, " # < > ? ` { } and non-ASCII.
_PATH_ENCODED = set(' "#<>?`{}')


def pathname(url: str) -> str:
    """The path of *url* as the embed's ``new URL(url).pathname`` gives it (its
    default thread key): ``/`` when empty, non-ASCII percent-encoded."""
    path = urlsplit(url.strip()).path or "/"
    if not path.startswith("/"):
        path = "/" + path
    out = []
    for ch in path:
        if ord(ch) < 0x21 or ord(ch) > 0x7E or ch in _PATH_ENCODED:
            out.append("".join(f"%{b:02X}" for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out)

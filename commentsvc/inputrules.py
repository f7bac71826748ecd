"""What a reader may give us, as plain functions that say why a value is
refused (a message for the reader) or return None when it is fine.

The API's comment form (commentsvc.api.forms) wraps them as form validators and
the importers (commentsvc.portability) call them on every file's values, so
what the API refuses is not stored from a file either: one rule, one place.
"""

import unicodedata
from urllib.parse import urlsplit

import email_validator

MAX_NAME = 100
MAX_EMAIL = 254
MAX_URL = 2048
MAX_KEY = 512

INVALID_TEXT = "Contains characters that are not valid text."
CONTROL_CHARACTERS = "Contains control characters."
LINE_SEPARATOR = "Must be a single line (no line or paragraph separators)."
HIDDEN_IN_NAME = (
    "Please use visible characters only (no invisible or direction-changing ones)."
)
MAILTO_UNSAFE = "Please enter a plain email address (without ? & % # quotes or spaces)."
INVALID_EMAIL = "Please enter a valid email address."
NOT_HTTP = "Must be an http(s) URL."
ENCODED_WORD_IN_NAME = 'Please write your name as plain text (without "=?").'

_LINE_BREAKS = frozenset("\n\r\t")
_ZWJ = "\u200d"
_EMOJI_PARTS = frozenset(("So", "Sk", "Mn"))  # pictographs, modifiers, VS-16
# Characters an email address may legally hold that would make a mailto: link
# carry headers or another address (?subject=…&bcc=…, %-escapes, quotes, lists).
_MAILTO_UNSAFE = frozenset('?&%#<>",;\\ ')


def _too_long(length: int) -> str:
    return f"Field cannot be longer than {length} characters."


def text_problem(value: str, multiline: bool = False) -> str | None:
    """Why *value* is text a database or a reader cannot take: unpaired
    surrogates, control characters (newlines and tabs allowed if *multiline*),
    and in a single line (a name, an email, a URL) U+2028 LINE SEPARATOR or
    U+2029 PARAGRAPH SEPARATOR, which mail and many readers show as a line
    break."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return INVALID_TEXT
    allowed = _LINE_BREAKS if multiline else frozenset()
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc" and char not in allowed:
            return CONTROL_CHARACTERS
        if category in ("Zl", "Zp") and not multiline:
            return LINE_SEPARATOR
    return None


def has_hidden_characters(text: str) -> bool:
    """Whether *text* holds a Unicode format character (bidi control,
    zero-width space, BOM…), other than the zero-width joiner inside an emoji
    sequence (👩‍💻)."""
    for at, char in enumerate(text):
        if unicodedata.category(char) != "Cf":
            continue
        if (
            char == _ZWJ
            and 0 < at < len(text) - 1
            and unicodedata.category(text[at - 1]) in _EMOJI_PARTS
            and unicodedata.category(text[at + 1]) in _EMOJI_PARTS
        ):
            continue
        return True
    return False


def name_problem(name: str) -> str | None:
    """Why *name* (stripped, not empty) cannot be an author's name: the one rule
    for names, at the API and at import. Invisible and direction-changing
    characters let one name pass for another, or reverse the text after it; an
    encoded word (``=?utf-8?q?…?=``) becomes anything in a mail header."""
    problem = text_problem(name)
    if problem:
        return problem
    if len(name) > MAX_NAME:
        return _too_long(MAX_NAME)
    if has_hidden_characters(name):
        return HIDDEN_IN_NAME
    # "=?" opens every RFC 2047 encoded word, which a mail reader decodes into
    # anything, line breaks included (older Pythons then write those into a
    # header as they are: CVE-2024-6923); a real name has no need of it.
    if "=?" in name:
        return ENCODED_WORD_IN_NAME
    return None


def email_problem(email: str) -> str | None:
    """Why *email* (stripped, not empty) is not an address we store: not an
    address, or one a mailto: link would misread (``?bcc=…``)."""
    problem = text_problem(email)
    if problem:
        return problem
    if len(email) > MAX_EMAIL:
        return _too_long(MAX_EMAIL)
    if any(c in _MAILTO_UNSAFE for c in email) or has_hidden_characters(email):
        return MAILTO_UNSAFE
    try:
        # As WTForms' Email() validator calls it (the form used it before).
        email_validator.validate_email(
            email,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_empty_local=False,
        )
    except email_validator.EmailNotValidError:
        return INVALID_EMAIL
    return None


def http_url_problem(url: str) -> str | None:
    """Why *url* (stripped, not empty) is not a link we may show: only http(s)
    with a host (never ``javascript:``, ``data:``…)."""
    problem = text_problem(url)
    if problem:
        return problem
    if len(url) > MAX_URL:
        return _too_long(MAX_URL)
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # urlsplit refuses a malformed IPv6 host ("http://[x")
        return NOT_HTTP
    if hostname is None or parts.scheme not in ("http", "https"):
        return NOT_HTTP
    return None


def thread_key_problem(key: str) -> str | None:
    """Why *key* (already stripped) cannot name a thread in a listing, or None."""
    if not key:
        return "Please give the page's thread key."
    if len(key) > MAX_KEY:
        return _too_long(MAX_KEY)
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        return CONTROL_CHARACTERS
    return None

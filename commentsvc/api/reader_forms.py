"""Validation of readers' reports and edits: one JSON object, allow-listed."""

import unicodedata

from ..comments.reports import MAX_EXPLANATION, REASONS, ReaderReport
from ..errors import ApiError
from .forms import parse_json_object

MAX_TOKEN = 200
# As a post's captcha_token (commentsvc/api/forms.py).
MAX_CAPTCHA_TOKEN = 8192


def _invalid(fields: dict) -> ApiError:
    return ApiError(
        422, "validation_failed", "Please correct the highlighted fields.", fields
    )


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(data: dict, name: str, errors: dict, limit: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = "Must be a string."
        return None
    value = value.strip()
    if len(value) > limit:
        errors[name] = f"Field cannot be longer than {limit} characters."
    elif not value.isascii() and not _encodable(value):
        # A lone surrogate (JSON's "\ud800") is no text: nothing can store it.
        errors[name] = "Contains characters that are not valid text."
    elif any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in value):
        # As a posted comment's body: C0, DEL and C1 controls.
        errors[name] = "Contains control characters."
    return value or None


def validate_report(raw: bytes) -> ReaderReport:
    """``{"reason", "explanation"?, "token"?, "captcha_token"?}`` as a report.

    Raises:
        ApiError: 400 ``malformed_json`` or 422 ``validation_failed``.
    """
    data = parse_json_object(raw)
    errors = {}
    reason = data.get("reason")
    if reason not in REASONS:
        errors["reason"] = "Choose one of: " + ", ".join(REASONS) + "."
    explanation = _text(data, "explanation", errors, MAX_EXPLANATION)
    token = _text(data, "token", errors, MAX_TOKEN)
    captcha_token = _text(data, "captcha_token", errors, MAX_CAPTCHA_TOKEN)
    if reason == "illegal" and not explanation and "explanation" not in errors:
        errors["explanation"] = "Please explain why this content is illegal."
    if errors:
        raise _invalid(errors)
    return ReaderReport(reason, explanation, token, captcha_token)


def validate_edit(raw: bytes, max_length: int) -> tuple[str, str | None]:
    """``{"body", "edit_token"}``: the new text and the token.

    Raises:
        ApiError: 400 ``malformed_json`` or 422 ``validation_failed``.
    """
    data = parse_json_object(raw)
    errors = {}
    body = _text(data, "body", errors, max_length)
    token = _text(data, "edit_token", errors, MAX_TOKEN)
    if not body and "body" not in errors:
        errors["body"] = "Please enter your comment!"
    if "body" in errors and errors["body"].startswith("Field cannot"):
        errors["body"] = f"Please keep your comment under {max_length} characters."
    if errors:
        raise _invalid(errors)
    return body, token


def token_for_delete(header: str | None, raw: bytes) -> str | None:
    """The edit token of a DELETE: the ``X-Edit-Token`` header, else
    ``{"edit_token"}`` in a JSON body.

    Raises:
        ApiError: 400 ``malformed_json`` (a body that is not a JSON object).
    """
    if header:
        return header.strip()[:MAX_TOKEN] or None
    if not raw.strip():
        return None
    errors = {}
    token = _text(parse_json_object(raw), "edit_token", errors, MAX_TOKEN)
    if errors:
        raise _invalid(errors)
    return token

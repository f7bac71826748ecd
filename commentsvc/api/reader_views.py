"""Views of readers' features: report a comment, edit or delete one's own."""

import math

from flask import Response, request

from ..captcha import CaptchaRefused
from ..comments import edits, reports
from ..comments.access import UnknownComment
from ..comments.errors import ValidationFailed
from ..errors import ApiError, rate_limited
from ..models import iso8601, utcnow
from ..ratelimit import client_ip
from . import bp
from .cors import check_origin, preflight_response
from .reader_forms import token_for_delete, validate_edit, validate_report
from .views import _json_bytes, _site_or_404

COMMENT = "/sites/<site_slug>/comments/<int:comment_id>"
REPORT_MESSAGE = "Thank you: the moderators will look at this comment."
CAPTCHA_REQUIRED_MESSAGE = (
    "Many reports came from your network lately: please solve the captcha "
    "and send the report again."
)
REPORT_CAPTCHA_MESSAGES = {
    "captcha_expired": "The captcha expired or was already used: solve it again "
    "and send the report again.",
    "captcha_invalid": "The captcha could not be verified.",
}
EDIT_PENDING_MESSAGE = (
    "Your edit awaits moderation: readers see the published text until then."
)


def _not_found(comment_id: int) -> ApiError:
    return ApiError(404, "not_found", f"There is no comment {comment_id} to act on.")


def _site(site_slug: str, comment_id: int):
    site = _site_or_404(site_slug)
    check_origin(site)
    return site


def _json_site(site_slug: str, comment_id: int):
    site = _site(site_slug, comment_id)
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send application/json.")
    return site


@bp.route(COMMENT + "/reports", methods=["OPTIONS"])
def report_preflight(site_slug: str, comment_id: int):
    """Answer a CORS preflight for reports."""
    check_origin(_site_or_404(site_slug))
    return preflight_response("POST")


@bp.route(COMMENT, methods=["OPTIONS"])
def comment_preflight(site_slug: str, comment_id: int):
    """Answer a CORS preflight for edits and deletions."""
    check_origin(_site_or_404(site_slug))
    return preflight_response("PATCH, DELETE", "X-Edit-Token")


@bp.post(COMMENT + "/reports")
def report_comment(site_slug: str, comment_id: int):
    """Report a published comment (202; a reader's second report of the same
    comment is answered alike and not counted). A network that reports often
    needs the site's captcha (403 ``captcha_required``), or on a site without
    one waits (429)."""
    site = _json_site(site_slug, comment_id)
    report = validate_report(request.get_data(cache=False))
    try:
        reports.file_report(site, comment_id, report, client_ip())
    except UnknownComment:
        raise _not_found(comment_id) from None
    except reports.CaptchaRequired:
        raise ApiError(403, "captcha_required", CAPTCHA_REQUIRED_MESSAGE) from None
    except CaptchaRefused as error:
        message = REPORT_CAPTCHA_MESSAGES[error.code]
        raise ApiError(403, error.code, message) from None
    except reports.NetworkBusy as error:
        wait = (error.until - utcnow()).total_seconds()
        raise rate_limited(max(1, math.ceil(wait))) from None
    payload = {"status": "received", "message": REPORT_MESSAGE}
    return Response(_json_bytes(payload), status=202, mimetype="application/json")


def _refused(error: edits.EditRefused) -> ApiError:
    status = 409 if error.code == "edit_conflict" else 403
    return ApiError(status, error.code, str(error))


@bp.patch(COMMENT)
def edit_comment(site_slug: str, comment_id: int):
    """Its author replaces a comment's text within the edit window (200)."""
    site = _json_site(site_slug, comment_id)
    body, token = validate_edit(request.get_data(cache=False), site.max_length)
    try:
        edited = edits.edit_comment(site, comment_id, token, body, client_ip())
    except UnknownComment:
        raise _not_found(comment_id) from None
    except edits.EditRefused as error:
        raise _refused(error) from None
    except ValidationFailed as error:
        raise ApiError(
            422,
            "validation_failed",
            "Please correct the highlighted fields.",
            fields=error.fields,
        ) from None
    comment = edited.comment
    published = comment.status.value == "approved"
    payload = {
        "id": comment.id,
        "status": "approved" if published else "pending",
        # While an edit awaits moderation: the approved text readers still see.
        "html": comment.body_html if published else None,
        "edited_at": iso8601(comment.edited_at),
        "edit_pending": edited.awaiting_moderation,
        "message": EDIT_PENDING_MESSAGE if edited.awaiting_moderation else None,
    }
    return Response(_json_bytes(payload), mimetype="application/json")


@bp.delete(COMMENT)
def delete_comment(site_slug: str, comment_id: int):
    """Its author deletes a comment within the edit window (204)."""
    site = _site(site_slug, comment_id)
    token = token_for_delete(
        request.headers.get("X-Edit-Token"), request.get_data(cache=False)
    )
    try:
        edits.delete_comment(site, comment_id, token)
    except UnknownComment:
        raise _not_found(comment_id) from None
    except edits.EditRefused as error:
        raise _refused(error) from None
    return Response(status=204)

"""Views of the public API: parse, call the service, serialize."""

import hashlib
import json
from datetime import timedelta

from flask import Response, current_app, g, request

from .. import accounts, rejections
from ..captcha import CaptchaRefused, dev
from ..comments import service
from ..comments.errors import MayBreakRules, ThreadClosed, ValidationFailed
from ..comments.listing import BadCursor
from ..comments.public_site import site_view
from ..errors import ApiError
from ..models import CommentStatus, iso8601
from ..ratelimit import client_ip
from ..sites import SLUG, SORTS, SiteSettings
from ..spam import formtoken
from . import bp
from .cors import check_origin, preflight_response
from .forms import parse_json_object, thread_key_problem, validate_submission
from .lookup import request_site

_CAPTCHA_MESSAGES = {
    "captcha_expired": "The captcha expired or was already used: get a fresh one "
    "and send the comment again.",
    "captcha_invalid": "The captcha could not be verified.",
}

THREAD_CLOSED_MESSAGE = "Comments are closed."


def _site_or_404(slug: str) -> SiteSettings:
    site = request_site(slug)
    if site is None:
        raise ApiError(404, "unknown_site", f"There is no site {slug!r}.")
    return site


def _json_bytes(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _thread_key_from_query() -> str:
    key = request.args.get("thread", "").strip()
    problem = thread_key_problem(key)
    if problem:
        raise ApiError(
            422,
            "validation_failed",
            "Please correct the highlighted fields.",
            fields={"thread": problem},
        )
    return key


def _client_info() -> service.ClientInfo:
    user_agent = request.headers.get("User-Agent", "")
    user_agent = "".join(c for c in user_agent if c.isprintable())[:512] or None
    return service.ClientInfo(ip=client_ip(), user_agent=user_agent)


@bp.route("/sites/<site_slug>/comments", methods=["OPTIONS"])
@bp.route("/sites/<site_slug>/counts", methods=["OPTIONS"])
@bp.route("/sites/<site_slug>/captcha/dev-token", methods=["OPTIONS"])
@bp.route("/sites/<site_slug>/form-token", methods=["OPTIONS"])
def comments_preflight(site_slug: str):
    """Answer a CORS preflight for the site's endpoints."""
    site = _site_or_404(site_slug)
    check_origin(site)
    # Signed-in readers send their session as a bearer token (never a cookie).
    return preflight_response(headers="Authorization")


@bp.get("/sites/<site_slug>/comments")
def list_comments(site_slug: str):
    """A page of a thread's approved comments, oldest (or ``sort=newest``)
    first, and the site's public config; ``cursor`` names a later page (see
    comments/listing.py).

    Public and cacheable: nothing in it differs per reader. Served from the
    in-process read cache; a moderation decision invalidates it.
    """
    site = site_view(site_slug) if SLUG.match(site_slug) else None
    if site is None:
        raise ApiError(404, "unknown_site", f"There is no site {site_slug!r}.")
    check_origin(site)
    cursor = request.args.get("cursor", "")
    sort = request.args.get("sort", "")
    if sort not in ("", *SORTS):
        raise ApiError(
            422,
            "validation_failed",
            "Please correct the highlighted fields.",
            fields={"sort": "Either oldest or newest."},
        )
    try:
        listing = service.thread_listing(site, _thread_key_from_query(), cursor, sort)
    except BadCursor:
        raise ApiError(
            422,
            "validation_failed",
            "Please correct the highlighted fields.",
            fields={
                "cursor": "Not a cursor of this thread and order: use one a page gave."
            },
        ) from None
    response = Response(listing.body, mimetype="application/json")
    response.set_etag(listing.etag)
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["API_CACHE_MAX_AGE"]
    return response.make_conditional(request)


def _thread_keys_from_query() -> list[str]:
    """The 1 to MAX_COUNT_THREADS thread keys of a counts request, without
    repeats, in their order."""
    given = request.args.getlist("thread")
    problem = None
    if not 1 <= len(given) <= service.MAX_COUNT_THREADS:
        problem = f"Name 1 to {service.MAX_COUNT_THREADS} threads."
    keys = [key.strip() for key in given]
    for key in keys:
        problem = problem or thread_key_problem(key)
    if problem:
        raise ApiError(
            422,
            "validation_failed",
            "Please correct the highlighted fields.",
            fields={"thread": problem},
        )
    return list(dict.fromkeys(keys))


@bp.get("/sites/<site_slug>/counts")
def thread_counts(site_slug: str):
    """The approved comments of up to 100 threads (a list of articles), for
    count.js. Public and cacheable like the listing, and dropped from the read
    cache with it."""
    site = site_view(site_slug) if SLUG.match(site_slug) else None
    if site is None:
        raise ApiError(404, "unknown_site", f"There is no site {site_slug!r}.")
    check_origin(site)
    counts = service.thread_counts(site, _thread_keys_from_query())
    body = _json_bytes({"counts": counts})
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["API_CACHE_MAX_AGE"]
    return response.make_conditional(request)


def bearer_token() -> str | None:
    """The reader's session from ``Authorization: Bearer …``, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def sign_in_refused(error: accounts.SignInRefused) -> ApiError:
    return ApiError(error.status, error.code, error.message, extra=error.extra())


def _reader(site, data: dict):
    """The signed-in reader of a post (None: a guest).

    Raises:
        ApiError: 403 ``sso_invalid``, ``sso_expired``, ``sign_in_required``,
            ``account_suspended`` or ``account_banned``; 401 ``session_invalid``;
            422 when ``sso_token`` is not a string.
    """
    token = data.get("sso_token")
    if token is not None and not isinstance(token, str):
        raise ApiError(
            422,
            "validation_failed",
            "Please correct the highlighted fields.",
            fields={"sso_token": "Must be a string."},
        )
    try:
        return accounts.reader_for_post(site, token or None, bearer_token())
    except accounts.SignInRefused as error:
        raise sign_in_refused(error) from None


@bp.post("/sites/<site_slug>/comments")
def post_comment(site_slug: str):
    """Post a new comment; it waits for moderation (202)."""
    site = _site_or_404(site_slug)
    check_origin(site)
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", "Send the comment as application/json."
        )
    data = parse_json_object(request.get_data(cache=False))
    submission = validate_submission(site, data, _reader(site, data))
    try:
        comment = service.submit_comment(site, submission, _client_info())
    except ThreadClosed:
        raise ApiError(403, "thread_closed", THREAD_CLOSED_MESSAGE) from None
    except MayBreakRules as error:
        # Nothing stored or spent: the same post with "post_anyway" is stored.
        raise ApiError(
            409,
            "may_break_rules",
            rejections.NUDGE_MESSAGE,
            extra={"words": error.words},
        ) from None
    except CaptchaRefused as error:
        raise ApiError(403, error.code, _CAPTCHA_MESSAGES[error.code]) from None
    except ValidationFailed as error:
        raise ApiError(
            422,
            "validation_failed",
            "Please correct the highlighted fields.",
            fields=error.fields,
        ) from None
    g.post_outcome = comment.status.value
    published = comment.status == CommentStatus.APPROVED
    payload = {
        "id": comment.id,
        "status": "approved" if published else "pending",
        "message": service.PUBLISHED_MESSAGE if published else service.ACCEPTED_MESSAGE,
    }
    if comment.edit_token:
        # Kept by the embed so this browser may edit or delete the comment.
        payload["edit_token"] = comment.edit_token
        payload["edit_until"] = iso8601(
            comment.created_at + timedelta(seconds=site.edit_window_seconds)
        )
    return Response(_json_bytes(payload), status=202, mimetype="application/json")


@bp.post("/sites/<site_slug>/captcha/dev-token")
def dev_captcha_token(site_slug: str):
    """Issue a token of the built-in dev captcha (demo and tests only)."""
    site = _site_or_404(site_slug)
    check_origin(site)
    try:
        token, lifetime = dev.issue_token(site)
    except dev.DevCaptchaDisabled:
        raise ApiError(
            404,
            "captcha_unavailable",
            "The dev captcha is not enabled for this site.",
        ) from None
    response = Response(
        _json_bytes({"token": token, "expires_in": lifetime}),
        mimetype="application/json",
    )
    response.cache_control.no_store = True
    return response


@bp.post("/sites/<site_slug>/form-token")
def form_token(site_slug: str):
    """A time-trap token for the reader's form, fetched on first interaction
    (never in the cacheable listing: it differs per reader)."""
    site = _site_or_404(site_slug)
    check_origin(site)
    response = Response(
        _json_bytes(
            {"token": formtoken.issue(site), "min_seconds": site.min_submit_seconds}
        ),
        mimetype="application/json",
    )
    response.cache_control.no_store = True
    return response

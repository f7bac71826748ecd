"""Views of readers who sign in: asking for an e-mail link, and their own
account (what it holds, its download and its erasure). Sessions come as
``Authorization: Bearer`` (never a cookie: the embed runs on the site's
pages, cross-origin)."""

import json

from flask import Response, request

from .. import accounts, mail
from ..accounts import selfservice, sessions
from ..accounts.email import request_link
from ..errors import ApiError
from ..extensions import db
from ..inputrules import email_problem, name_problem
from ..mail.wake import wake_mail_workers
from . import bp
from .cors import check_origin, preflight_response
from .forms import parse_json_object
from .views import _json_bytes, _site_or_404, bearer_token, sign_in_refused

SITE = "/sites/<site_slug>"
LINK_SENT = (
    "Check your mailbox: if the address can receive mail, a link to sign in is "
    "on its way. It works once, for 30 minutes."
)
ERASED = "Your account and your comments are erased: each comment now reads [deleted]."


def _fields_problem(fields: dict) -> ApiError:
    return ApiError(
        422,
        "validation_failed",
        "Please correct the highlighted fields.",
        fields=fields,
    )


def _json_body() -> dict:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send application/json.")
    return parse_json_object(request.get_data(cache=False))


def _signed_in(site_slug: str):
    """The site and the account of the request's session, or of the site's
    own token (``Authorization: Bearer <jwt>``: SSO readers have no session).

    Raises:
        ApiError: 404 unknown site, 403 origin, 401 ``session_invalid``,
            403 ``sso_invalid`` or ``sso_expired``.
    """
    site = _site_or_404(site_slug)
    check_origin(site)
    try:
        account = accounts.account_of(site, bearer_token())
    except accounts.SignInRefused as error:
        raise sign_in_refused(error) from None
    if account is None:
        raise ApiError(401, "session_invalid", accounts.SessionInvalid.message)
    return site, account


def _no_store(body: bytes, status: int = 200, **headers) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    response.cache_control.no_store = True
    response.headers.update(headers)
    return response


@bp.route(SITE + "/auth/email", methods=["OPTIONS"])
def email_sign_in_preflight(site_slug: str):
    check_origin(_site_or_404(site_slug))
    return preflight_response("POST")


@bp.post(SITE + "/auth/email")
def email_sign_in(site_slug: str):
    """Mail a one-time sign-in link (202 whether or not the address is known)."""
    site = _site_or_404(site_slug)
    check_origin(site)
    settings = accounts.sign_in_settings(site.id, site.slug)
    if not (settings.email_sign_in and mail.enabled()):
        raise ApiError(
            404, "sign_in_unavailable", "This site does not offer sign-in by e-mail."
        )
    data = _json_body()
    problems = {}
    address = data.get("email")
    if not isinstance(address, str) or not address.strip():
        problems["email"] = "Please enter your e-mail address."
    else:
        address = address.strip().lower()
        problems["email"] = email_problem(address)
    name = data.get("name")
    if name is not None:
        if not isinstance(name, str):
            problems["name"] = "Must be a string."
        else:
            name = name.strip() or None
            problems["name"] = name and name_problem(name)
    return_url = accounts.safe_return(site, data.get("return_url"))
    if data.get("return_url") in (None, ""):
        problems["return_url"] = "Please give the page to come back to."
    elif return_url is None:
        problems["return_url"] = "Must be a page on one of the site's own origins."
    problems = {key: value for key, value in problems.items() if value}
    if problems:
        raise _fields_problem(problems)
    if request_link(site, address, name, return_url):
        wake_mail_workers()
    return _no_store(_json_bytes({"message": LINK_SENT}), 202)


@bp.route(SITE + "/me", methods=["OPTIONS"])
@bp.route(SITE + "/me/sign-out", methods=["OPTIONS"])
@bp.route(SITE + "/me/export", methods=["OPTIONS"])
@bp.route(SITE + "/me/subscriptions/<int:subscription_id>", methods=["OPTIONS"])
def me_preflight(site_slug: str, subscription_id: int | None = None):
    check_origin(_site_or_404(site_slug))
    return preflight_response("GET, POST, PATCH, DELETE", headers="Authorization")


@bp.get(SITE + "/me")
def me(site_slug: str):
    """The signed-in reader's account, newest comments and subscriptions."""
    _, account = _signed_in(site_slug)
    return _no_store(_json_bytes(selfservice.overview(account)))


@bp.patch(SITE + "/me")
def rename_me(site_slug: str):
    """Change the display name of an e-mail account."""
    _, account = _signed_in(site_slug)
    name = _json_body().get("name")
    problem = None
    if not isinstance(name, str) or not name.strip():
        problem = "Please enter a name."
    elif account.provider != "email":
        problem = "Your name comes from where you signed in: change it there."
    else:
        name = name.strip()
        problem = name_problem(name)
    if problem:
        raise _fields_problem({"name": problem})
    selfservice.rename(account, name)
    return _no_store(_json_bytes(selfservice.overview(account)))


@bp.post(SITE + "/me/sign-out")
def sign_out(site_slug: str):
    """End this browser's session."""
    _signed_in(site_slug)
    token = bearer_token()
    # A site token ends on the site's side (its own log-out), not here.
    if not accounts.readers.is_site_token(token):
        sessions.end(token)
        db.session.commit()
    return _no_store(b"", 204)


@bp.get(SITE + "/me/export")
def export_me(site_slug: str):
    """Everything stored about the reader here, as a JSON download."""
    site, account = _signed_in(site_slug)
    body = json.dumps(selfservice.export(account), ensure_ascii=False, indent=1)
    name = f"commentsvc-{site.slug}-account-{account.id}.json"
    return _no_store(
        body.encode(), 200, **{"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.delete(SITE + "/me")
def erase_me(site_slug: str):
    """Erase the account and its comments, once the reader confirmed."""
    site, account = _signed_in(site_slug)
    if _json_body().get("confirm") is not True:
        raise _fields_problem(
            {"confirm": 'Send "confirm": true to erase your account and comments.'}
        )
    erased = selfservice.erase(account, site.slug)
    return _no_store(_json_bytes({"message": ERASED, "comments": erased}))


@bp.delete(SITE + "/me/subscriptions/<int:subscription_id>")
def unsubscribe(site_slug: str, subscription_id: int):
    """Stop reply mail about one page."""
    _, account = _signed_in(site_slug)
    try:
        selfservice.unsubscribe(account, subscription_id)
    except selfservice.NotSubscribed:
        raise ApiError(
            404, "not_found", "You have no such subscription on this site."
        ) from None
    return _no_store(b"", 204)

"""Reader-facing sign-in pages on the service's own origin (``/auth/``):
OpenID Connect's start and callback. Every failure is a page that says what
failed and links back to the article, never a 500."""

import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..extensions import db
from ..sites import site_settings
from . import oidc, oidc_flows, sessions
from .links import back_to, safe_return
from .readers import find_or_create
from .settings import sign_in_settings

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/auth")

NO_SITE = "There is no such site."
NO_OIDC = "This site does not offer this way of signing in."
BAD_RETURN = (
    "This sign-in link does not lead back to a page of this site, so it "
    "was not followed."
)
BANNED = "Your account may no longer comment on this site."


def _page(text: str, status: int, return_url: str | None = None, title=None):
    page = render_template(
        "auth/message.html", title=title or text, text=text, return_url=return_url
    )
    return page, status, {"Cache-Control": "no-store"}


def _secure() -> bool:
    return bool(current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _callback_url(slug: str) -> str:
    """The redirect URI the provider knows: on PUBLIC_URL when it is set (the
    address registered at the provider), else the address this request came
    to."""
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return public.rstrip("/") + url_for("auth.oidc_callback", slug=slug)
    return url_for("auth.oidc_callback", slug=slug, _external=True)


def _site_and_provider(slug: str):
    site = site_settings(slug)
    if site is None:
        return None, None
    return site, oidc.provider_of(sign_in_settings(site.id, site.slug))


@bp.get("/<slug>/oidc/start")
def oidc_start(slug: str):
    """Send the reader to the site's OpenID Connect provider; they come back
    to :func:`oidc_callback`, then to ``return`` (a page of the site)."""
    site, provider = _site_and_provider(slug)
    if site is None:
        return _page(NO_SITE, 404)
    return_url = safe_return(site, request.args.get("return"))
    if return_url is None:
        log.warning("oidc start refused: return URL not on the site's origins")
        return _page(BAD_RETURN, 400)
    if provider is None:
        return _page(NO_OIDC, 404, return_url)
    try:
        url, flow = oidc.begin(provider, _callback_url(slug), return_url)
    except oidc.OidcError as error:
        log.warning("oidc start failed for site %s: %s", slug, error)
        return _page(error.message, error.status, return_url)
    response = redirect(url, 302)
    cookie = oidc_flows.add(request.cookies.get(oidc_flows.COOKIE), flow)
    oidc_flows.set_cookie(response, cookie, _secure())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<slug>/oidc/callback")
def oidc_callback(slug: str):
    """The provider sends the reader back here: check, sign in, and send them
    back to the article with their session (303)."""
    cookie = request.cookies.get(oidc_flows.COOKIE)
    flow, rest = oidc_flows.take(cookie, request.args.get("state"))
    site, provider = _site_and_provider(slug)
    if flow is None:
        log.warning("oidc callback for site %s: no sign-in with this state", slug)
        latest = oidc_flows.latest(cookie)
        return _finish(
            _page(oidc.FlowInvalid.message, 400, latest and latest.return_url), rest
        )
    if site is None or provider is None:
        return _finish(_page(NO_OIDC, 404, flow.return_url), rest)
    # The site may have dropped the article's origin meanwhile.
    if safe_return(site, flow.return_url) is None:
        return _finish(_page(BAD_RETURN, 400), rest)
    try:
        if request.args.get("error"):
            raise oidc.SignInDenied(f"provider: {request.args['error'][:100]}")
        code = request.args.get("code")
        if not code:
            raise oidc.FlowInvalid("callback without a code")
        identity = oidc.finish(provider, flow, code)
    except oidc.OidcError as error:
        log.warning("oidc sign-in failed for site %s: %s", slug, error)
        return _finish(_page(error.message, error.status, flow.return_url), rest)
    token = _sign_in(site, identity)
    if token is None:
        log.warning("oidc sign-in refused for site %s: account banned", slug)
        return _finish(_page(BANNED, 403, flow.return_url), rest)
    return _finish(redirect(back_to(flow.return_url, token), 303), rest)


def _finish(result, cookie: str | None):
    """*result* (a page or a redirect) with the used sign-in dropped from the
    browser's cookie."""
    response = current_app.make_response(result)
    oidc_flows.set_cookie(response, cookie, _secure())
    response.headers["Cache-Control"] = "no-store"
    return response


def _sign_in(site, identity) -> str | None:
    """A new session of the account *identity* names (created on first sight),
    committed; None if the account is banned (nothing changed).

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    fields = (identity.sub, identity.name, identity.email)
    try:
        account = find_or_create(site.id, "oidc", *fields)
    except sa.exc.IntegrityError:
        # The same new reader came back twice at once: the other created it.
        db.session.rollback()
        account = find_or_create(site.id, "oidc", *fields)
    if account.banned:
        db.session.rollback()
        return None
    token = sessions.issue(account.id)
    db.session.commit()
    return token

"""OpenID Connect's two pages, which accounts.views adds to the readers'
sign-in blueprint (``/auth/``): the start, which sends the reader to the
site's provider, and the callback, which signs them in and sends them back to
the article. Every failure is a page that says what failed and links back to
the article, never a 500; the log says why."""

import logging

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, url_for

from ..extensions import db
from ..sites import site_settings
from . import oidc, oidc_flows, sessions
from .links import back_to, safe_return
from .readers import find_or_create
from .settings import sign_in_settings

log = logging.getLogger(__name__)

TITLE = "Signing in did not work"
NO_OIDC = "This site does not offer this way of signing in."
BAD_RETURN = (
    "This sign-in link does not lead back to a page of this site, so it "
    "was not followed."
)
BANNED = "Your account may no longer comment on this site."


def _site_or_404(slug: str):
    site = site_settings(slug) if len(slug) <= 64 else None
    if site is None:
        abort(404)
    return site


def message(site, title: str, text: str, status: int, back: str | None = None):
    """A page that says what happened, with a way back to the article (the
    page of accounts.views)."""
    page = render_template(
        "accounts/message.html", site=site, title=title, text=text, back=back
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
        return public.rstrip("/") + url_for("auth.oidc_callback", site_slug=slug)
    return url_for("auth.oidc_callback", site_slug=slug, _external=True)


def _provider(site):
    return oidc.provider_of(sign_in_settings(site.id, site.slug))


def oidc_start(site_slug: str):
    """Send the reader to the site's OpenID Connect provider; they come back
    to :func:`oidc_callback`, then to ``return`` (a page of the site)."""
    site = _site_or_404(site_slug)
    return_url = safe_return(site, request.args.get("return"))
    if return_url is None:
        log.warning("oidc start refused: return URL not on the site's origins")
        return message(site, TITLE, BAD_RETURN, 400)
    provider = _provider(site)
    if provider is None:
        return message(site, TITLE, NO_OIDC, 404, return_url)
    try:
        url, flow = oidc.begin(provider, _callback_url(site.slug), return_url)
    except oidc.OidcError as error:
        log.warning("oidc start failed for site %s: %s", site.slug, error)
        return message(site, TITLE, error.message, error.status, return_url)
    response = redirect(url, 302)
    cookie = oidc_flows.add(request.cookies.get(oidc_flows.COOKIE), flow)
    oidc_flows.set_cookie(response, cookie, _secure())
    response.headers["Cache-Control"] = "no-store"
    return response


def oidc_callback(site_slug: str):
    """The provider sends the reader back here: check, sign in, and send them
    back to the article with their session (303)."""
    site = _site_or_404(site_slug)
    cookie = request.cookies.get(oidc_flows.COOKIE)
    flow, rest = oidc_flows.take(cookie, request.args.get("state"))
    if flow is None:
        log.warning("oidc callback for site %s: no sign-in with this state", site.slug)
        latest = oidc_flows.latest(cookie)
        back = latest.return_url if latest else None
        page = message(site, TITLE, oidc.FlowInvalid.message, 400, back)
        return _finish(page, rest)
    provider = _provider(site)
    if provider is None:
        return _finish(message(site, TITLE, NO_OIDC, 404, flow.return_url), rest)
    # The site may have dropped the article's origin meanwhile.
    if safe_return(site, flow.return_url) is None:
        return _finish(message(site, TITLE, BAD_RETURN, 400), rest)
    try:
        if request.args.get("error"):
            raise oidc.SignInDenied(f"provider: {request.args['error'][:100]}")
        code = request.args.get("code")
        if not code:
            raise oidc.FlowInvalid("callback without a code")
        identity = oidc.finish(provider, flow, code)
    except oidc.OidcError as error:
        log.warning("oidc sign-in failed for site %s: %s", site.slug, error)
        page = message(site, TITLE, error.message, error.status, flow.return_url)
        return _finish(page, rest)
    token = _sign_in(site, identity)
    if token is None:
        log.warning("oidc sign-in refused for site %s: account banned", site.slug)
        return _finish(message(site, TITLE, BANNED, 403, flow.return_url), rest)
    return _finish(redirect(back_to(flow.return_url, token), 303), rest)


def _finish(result, cookie: str | None):
    """*result* (a page or a redirect) with the used sign-in dropped from the
    browser's cookie."""
    response = current_app.make_response(result)
    oidc_flows.set_cookie(response, cookie, _secure())
    response.headers["Cache-Control"] = "no-store"
    # This URL carries the code and state: the article never sees it.
    response.headers["Referrer-Policy"] = "no-referrer"
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

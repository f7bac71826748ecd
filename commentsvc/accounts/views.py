"""Readers' sign-in pages on the service's own origin: the page an e-mail
sign-in link opens (and, in oidc, the OpenID Connect redirects). A GET never
signs in; success sends the reader back to the article with their session in
the URL's fragment (accounts.links)."""

from flask import Blueprint, abort, g, redirect, render_template

from ..moderation.forms import EmptyForm
from ..origins import origin_of_url
from ..sites import site_settings
from . import email, oidc_views
from .links import back_to

bp = Blueprint("auth", __name__, url_prefix="/auth")

_UNUSABLE = {
    "invalid": "This sign-in link is not valid: it may have been cut short when "
    "it was copied. Ask for a new one from the comment form.",
    "used": "This sign-in link was used already: each works once. Ask for a new "
    "one from the comment form.",
    "expired": "This sign-in link has expired. Ask for a new one from the "
    "comment form.",
}
_STATUS = {"invalid": 400, "used": 410, "expired": 410}


def _site_or_404(slug: str):
    site = site_settings(slug) if len(slug) <= 64 else None
    if site is None:
        abort(404)
    return site


def message(site, title: str, text: str, status: int, back: str | None = None):
    """A page that says what happened, with a way back to the article."""
    page = render_template(
        "accounts/message.html", site=site, title=title, text=text, back=back
    )
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/<site_slug>/email/<token>", methods=["GET", "POST"])
def email_link(site_slug: str, token: str):
    """An e-mail sign-in link: the address and one button (POST signs in)."""
    site = _site_or_404(site_slug)
    form = EmptyForm()
    try:
        link = email.check(site, token)
        # The button's POST answers with a redirect to the article's origin.
        g.csp_form_action = origin_of_url(link.return_url)
        if form.validate_on_submit():
            session_token, return_url = email.sign_in(site, token)
            return redirect(back_to(return_url, session_token), 303)
    except email.LinkUnusable as error:
        title = "This link cannot sign you in"
        return message(site, title, _UNUSABLE[error.reason], _STATUS[error.reason])
    page = render_template(
        "accounts/sign_in.html", site=site, address=link.email, form=form
    )
    return page, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


bp.add_url_rule("/<site_slug>/oidc/start", view_func=oidc_views.oidc_start)
bp.add_url_rule("/<site_slug>/oidc/callback", view_func=oidc_views.oidc_callback)

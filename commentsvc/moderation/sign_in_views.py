"""The "Readers' sign-in" section of a site's settings page (admins): guests,
captcha, e-mail sign-in, trust thresholds, the site's token settings and its
OpenID Connect client; and the button that creates or rotates the SSO secret,
then shows it once on a page of its own."""

import hmac
import logging
from decimal import Decimal

from flask import flash, make_response, redirect, url_for
from flask_login import current_user

from .. import accounts
from ..comments.errors import ValidationFailed
from . import bp, secret_once
from .admin_views import (
    _site_or_404,
    admin_required,
    page,
    settings_page,
    show_errors,
)
from .forms import EmptyForm
from .reader_forms import SignInSettingsForm

log = logging.getLogger(__name__)

_FIELDS = (
    "guests_allowed",
    "sso_skip_captcha",
    "email_sign_in",
    "new_account_min_approved",
    "rejected_hold_ratio",
    "sso_algorithm",
    "sso_public_key",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_label",
)


def sign_in_form(site, submitted: bool = False) -> SignInSettingsForm:
    """The section's form, filled from the site's settings unless *submitted*
    (then from the request)."""
    if submitted:
        return SignInSettingsForm()
    settings = accounts.sign_in_settings(site.id, site.slug)
    form = SignInSettingsForm(
        formdata=None, data={k: getattr(settings, k) for k in _FIELDS}
    )
    form.rejected_hold_ratio.data = Decimal(str(settings.rejected_hold_ratio))
    return form


def sign_in_context(site, form=None) -> dict:
    """What the settings page needs for its "Readers' sign-in" section."""
    return {
        "sign_in_form": form or sign_in_form(site),
        "sign_in": accounts.sign_in_settings(site.id, site.slug),
        "secret_form": EmptyForm(),
    }


def _settings_page(site, status: int, **context):
    return settings_page(site, **sign_in_context(site, **context)), status


@bp.post("/sites/<slug>/sign-in")
@admin_required
def sign_in_settings(slug: str):
    """Save the "Readers' sign-in" section."""
    site = _site_or_404(slug)
    form = sign_in_form(site, submitted=True)
    if not form.validate_on_submit():
        flash("Nothing was saved: correct the fields marked below.", "error")
        return _settings_page(site, 422, form=form)
    changes = {name: form[name].data for name in _FIELDS}
    changes["rejected_hold_ratio"] = float(form.rejected_hold_ratio.data)
    if form.clear_oidc_client_secret.data:
        changes["oidc_client_secret"] = None
    elif form.oidc_client_secret.data:
        changes["oidc_client_secret"] = form.oidc_client_secret.data
    try:
        accounts.update_sign_in(site, actor=current_user, **changes)
    except ValidationFailed as error:
        show_errors(form, error)
        flash("Nothing was saved: correct the fields marked below.", "error")
        return _settings_page(site, 422, form=form)
    flash("Readers' sign-in saved.", "info")
    return redirect(url_for("moderation.site_settings", slug=slug, _anchor="sign-in"))


@bp.post("/sites/<slug>/sso-secret")
@admin_required
def rotate_sso_secret(slug: str):
    """Create or rotate the site's SSO secret, then redirect to the page that
    shows it once (POST, redirect, GET: reloading that page never rotates
    again; the secret stays in the database, see secret_once)."""
    site = _site_or_404(slug)
    if not EmptyForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("moderation.site_settings", slug=slug), 303)
    try:
        secret_once.reserve(current_user.id, site.id)
    except secret_once.CannotShowSecret:
        log.warning("SSO secret of %s not rotated: Redis is unavailable", slug)
        flash(
            "The SSO secret could not be rotated now (the new one could not be "
            "shown safely): nothing changed. Try again in a minute.",
            "error",
        )
        return redirect(url_for("moderation.site_settings", slug=slug), 303)
    secret = accounts.rotate_sso_secret(site, actor=current_user)
    try:
        secret_once.keep(current_user.id, site.id, secret)
    except secret_once.CannotShowSecret:
        # Rotated already: losing the new secret would leave the site's
        # tokens refused. Show it in this answer (no form on it rotates).
        log.warning("SSO secret of %s shown without a redirect: Redis failed", slug)
        return _secret_page(site, secret)
    return redirect(url_for("moderation.sso_secret", slug=slug), 303)


@bp.get("/sites/<slug>/sso-secret")
@admin_required
def sso_secret(slug: str):
    """The new SSO secret, to the admin who just rotated it, once; then (or
    for anyone else) back to the settings with a sentence saying why not."""
    site = _site_or_404(slug)
    back = redirect(url_for("moderation.site_settings", slug=slug, _anchor="sign-in"))
    try:
        wanted = secret_once.take(current_user.id, site.id)
    except secret_once.CannotShowSecret:
        flash("The SSO secret cannot be shown now: rotate it again.", "error")
        return back
    secret = accounts.sign_in_settings(site.id, site.slug).sso_secret
    if wanted is None or secret is None:
        flash(
            "The SSO secret is shown once, right after it is created or "
            "rotated: rotate it again for a new one.",
            "info",
        )
        return back
    if not hmac.compare_digest(wanted, secret_once.fingerprint(secret)):
        flash(
            "The SSO secret was rotated again since (by another admin or the "
            "command line): it is not shown here. Rotate it again for a new one.",
            "error",
        )
        return back
    return _secret_page(site, secret)


def _secret_page(site, secret: str):
    response = make_response(
        page("moderation/sso_secret.html", site=site, new_sso_secret=secret)
    )
    response.headers["Cache-Control"] = "no-store"
    return response

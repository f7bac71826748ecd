"""The "Readers' sign-in" section of a site's settings page (admins): guests,
captcha, e-mail sign-in, trust thresholds, the site's token settings and its
OpenID Connect client; and the button that creates or rotates the SSO secret,
whose answer shows it once."""

from decimal import Decimal

from flask import flash, make_response, redirect, url_for
from flask_login import current_user

from .. import accounts
from ..comments.errors import ValidationFailed
from . import bp
from .admin_views import _site_or_404, admin_required, settings_page, show_errors
from .forms import EmptyForm
from .reader_forms import SignInSettingsForm

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


def sign_in_context(site, form=None, new_secret=None) -> dict:
    """What the settings page needs for its "Readers' sign-in" section."""
    return {
        "sign_in_form": form or sign_in_form(site),
        "sign_in": accounts.sign_in_settings(site.id, site.slug),
        "secret_form": EmptyForm(),
        "new_sso_secret": new_secret,
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
    """Create or rotate the site's SSO secret; the answer shows it, once (never
    through a redirect: a flash message would keep it in the session cookie)."""
    site = _site_or_404(slug)
    if not EmptyForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("moderation.site_settings", slug=slug))
    secret = accounts.rotate_sso_secret(site, actor=current_user)
    response = make_response(_settings_page(site, 200, new_secret=secret))
    response.headers["Cache-Control"] = "no-store"
    return response

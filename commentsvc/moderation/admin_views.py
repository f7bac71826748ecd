"""Admin pages: sites and their settings (moderators: moderator_views)."""

import functools
import logging

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from .. import learning
from .. import sites as site_service
from ..comments.errors import ValidationFailed
from ..comments.queue import pending_count, reported_count
from ..extensions import db
from ..models import CaptchaProvider, ModerationPolicy, Site
from . import bp
from .forms import EmptyForm, NewSiteForm, SiteSettingsForm

log = logging.getLogger(__name__)


def admin_required(view):
    """Only admins (403 for moderators)."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def page(template: str, **context):
    return render_template(
        template,
        logout_form=EmptyForm(),
        pending=pending_count(current_user),
        reported=reported_count(current_user),
        **context,
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def show_errors(form, error: ValidationFailed) -> None:
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(f"{name}: {message}", "error")


@bp.get("/sites")
@admin_required
def sites():
    """Every site, with a link to its settings."""
    return page(
        "moderation/sites.html", sites=site_service.list_sites(), form=NewSiteForm()
    )


@bp.post("/sites")
@admin_required
def create_site():
    """Create a site."""
    form = NewSiteForm()
    if form.validate_on_submit():
        try:
            site = site_service.create_site(
                form.slug.data.strip(),
                form.name.data,
                allowed_origins=_lines(form.allowed_origins.data),
                actor=current_user,
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(f"Created site {site.slug}.", "info")
            return redirect(url_for("moderation.site_settings", slug=site.slug))
    return page(
        "moderation/sites.html", sites=site_service.list_sites(), form=form
    ), 422


def _settings_form(site: Site, posted: bool = False) -> SiteSettingsForm:
    """The settings form: *posted* (this form's own POST), from the request
    over the stored *site*; else filled from the stored *site* whatever the
    request (the sign-in section posts elsewhere, and its refusal shows this
    form as stored, not as an empty POST would fill it)."""
    if posted:
        return _with_choices(SiteSettingsForm(obj=site))
    form = _with_choices(SiteSettingsForm(formdata=None, obj=site))
    form.allowed_origins.data = "\n".join(site.allowed_origins or [])
    form.captcha_provider.data = site.captcha_provider.value
    form.moderation_policy.data = site.moderation_policy.value
    for name in ("spam_threshold", "spam_hold_threshold", "close_after_days"):
        if getattr(site, name) is None:
            form[name].data = ""
    # Write-only secrets are never sent back to the browser.
    form.captcha_secret.data = ""
    form.akismet_key.data = ""
    return form


def _with_choices(form: SiteSettingsForm) -> SiteSettingsForm:
    form.captcha_provider.choices = [SelectChoice(p.value) for p in CaptchaProvider]
    form.moderation_policy.choices = [
        SelectChoice(
            ModerationPolicy.HOLD_ALL.value, "Hold every comment for moderation"
        ),
        SelectChoice(
            ModerationPolicy.TRUST_APPROVED_AUTHORS.value,
            "Publish at once the comments of authors with approved comments",
        ),
    ]
    return form


def _site_or_404(slug: str) -> Site:
    # No slug holds a NUL (and PostgreSQL refuses one in a query: a 500).
    if "\x00" in slug:
        abort(404)
    site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    if site is None:
        abort(404)
    return site


@bp.route("/sites/<slug>/settings", methods=["GET", "POST"])
@admin_required
def site_settings(slug: str):
    """A site's settings; the captcha secret and Akismet key are write-only."""
    site = _site_or_404(slug)
    form = _settings_form(site, posted=request.method == "POST")
    status = 200
    if form.validate_on_submit():
        changes = {
            "name": form.name.data,
            "allowed_origins": _lines(form.allowed_origins.data),
            "captcha_provider": form.captcha_provider.data,
            "captcha_site_key": form.captcha_site_key.data,
            "captcha_score_threshold": float(form.captcha_score_threshold.data),
            "post_rate_limit": form.post_rate_limit.data,
            "require_email": form.require_email.data,
            "mail_own_approval": form.mail_own_approval.data,
            "share_spam_signals": form.share_spam_signals.data,
            "moderation_policy": form.moderation_policy.data,
            "trusted_author_min_approved": form.trusted_author_min_approved.data,
            "max_length": form.max_length.data,
            "close_after_days": form.close_after_days.data,
            "max_links": form.max_links.data,
            "blocked_words": form.blocked_words.data or "",
            "watch_words": form.watch_words.data or "",
            "min_submit_seconds": form.min_submit_seconds.data,
            "spam_filter_enabled": form.spam_filter_enabled.data,
            "spam_threshold": form.spam_threshold.data,
            "spam_hold_threshold": form.spam_hold_threshold.data,
            "reject_threshold": form.reject_threshold.data,
            "reject_hold_trusted": form.reject_hold_trusted.data,
            "reject_nudge": form.reject_nudge.data,
            "report_threshold": form.report_threshold.data,
            "edit_window_seconds": form.edit_window_seconds.data,
            "default_sort": form.default_sort.data,
            "max_reply_depth": form.max_reply_depth.data,
        }
        if form.clear_captcha_secret.data:
            changes["captcha_secret"] = None
        elif form.captcha_secret.data:
            changes["captcha_secret"] = form.captcha_secret.data
        if form.clear_akismet_key.data:
            changes["akismet_key"] = None
        elif form.akismet_key.data:
            changes["akismet_key"] = form.akismet_key.data
        try:
            site_service.update_site(slug, actor=current_user, **changes)
        except ValidationFailed as error:
            show_errors(form, error)
            flash("Nothing was saved: correct the fields marked below.", "error")
            status = 422
        else:
            flash("Settings saved.", "info")
            return redirect(url_for("moderation.site_settings", slug=slug))
    elif form.is_submitted():
        flash("Nothing was saved: correct the fields marked below.", "error")
        status = 422
    # The "Readers' sign-in" section has its own form and views.
    from .sign_in_views import sign_in_context

    return settings_page(site, form, **sign_in_context(site)), status


def settings_page(site: Site, form: SiteSettingsForm | None = None, **context):
    """The settings page of *site*: its settings form (*form*, or one filled
    from the site) and what *context* adds (the sign-in section)."""
    form = form or _settings_form(site)
    form.captcha_secret.data = ""
    form.akismet_key.data = ""
    return page(
        "moderation/site_settings.html",
        site=site,
        form=form,
        spam_thresholds=_spam_thresholds(site),
        **context,
    )


def _spam_thresholds(site: Site) -> tuple[float, float] | None:
    """The learning filter's thresholds in force (None if its models cannot be
    read: the queue shows why on each comment)."""
    try:
        return learning.thresholds(site)
    except Exception:  # noqa: BLE001 - a settings page must still open
        db.session.rollback()
        log.exception("spam filter thresholds unavailable for site %s", site.slug)
        return None

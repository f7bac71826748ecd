"""A moderator's own mail settings: per site, each comment, a digest or none."""

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..comments.errors import SiteNotFound, ValidationFailed
from ..mail import moderators as mail_moderators
from ..mail.strings import MODES
from . import bp
from .admin_views import page
from .forms import EmptyForm


@bp.route("/account/mail", methods=["GET", "POST"])
@login_required
def mail_settings():
    """Which mail you get about each of your sites (a select per site)."""
    form = EmptyForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            changes = [
                (site.slug, wanted)
                for site, mode in mail_moderators.settings_of(current_user)
                if (wanted := request.form.get(f"mode-{site.slug}", mode)) != mode
            ]
            try:
                # All or nothing: one refused choice saves none of the others.
                if any(wanted not in MODES for _, wanted in changes):
                    raise ValidationFailed({"mode": "Not one of the offered choices."})
                for slug, wanted in changes:
                    mail_moderators.set_mode(
                        current_user, slug, wanted, actor=current_user
                    )
                _save_report_mail()
            except (ValidationFailed, SiteNotFound):
                flash("Pick one of the offered choices for each site.", "error")
                status = 422
            else:
                flash("Your mail settings are saved.", "info")
                return redirect(url_for("moderation.mail_settings"))
        else:
            flash("The form expired. Reload the page and try again.", "error")
            status = 400
    return page(
        "moderation/mail_settings.html",
        form=form,
        settings=mail_moderators.settings_of(current_user),
        modes=MODES,
        reports=mail_moderators.report_mail_of(current_user),
        email=current_user.email,
    ), status


def _save_report_mail() -> None:
    # A form without the report boxes (an older page) changes none of them.
    if not request.form.get("reports-shown"):
        return
    wants = mail_moderators.report_mail_of(current_user)
    for site, _ in mail_moderators.settings_of(current_user):
        wanted = bool(request.form.get(f"reports-{site.slug}"))
        if wanted != wants[site.id]:
            mail_moderators.set_report_mail(
                current_user, site, wanted, actor=current_user
            )

"""Moderator accounts: the admin's list and account pages, and every
moderator's own password page. The rules live in ``accounts``."""

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from .. import sites as site_service
from ..comments.errors import ValidationFailed
from ..models import Moderator, Role
from . import accounts, bp, login_guard
from .admin_views import admin_required, page, show_errors
from .forms import (
    EmptyForm,
    ModeratorSitesForm,
    NewModeratorForm,
    PasswordChangeForm,
    PasswordResetForm,
)


def _site_choices() -> list[SelectChoice]:
    return [SelectChoice(s.slug, s.name) for s in site_service.list_sites()]


def _new_moderator_form() -> NewModeratorForm:
    form = NewModeratorForm()
    form.sites.choices = _site_choices()
    return form


def _list_page(form: NewModeratorForm):
    return page(
        "moderation/moderators.html",
        moderators=accounts.list_moderators(),
        form=form,
    )


@bp.get("/moderators")
@admin_required
def moderators():
    """Every account: role, sites, whether active; links to each one's page."""
    return _list_page(_new_moderator_form())


@bp.post("/moderators")
@admin_required
def create_moderator_view():
    """Create a moderator (or an admin)."""
    form = _new_moderator_form()
    if form.validate_on_submit():
        try:
            moderator = accounts.create_moderator(
                form.username.data,
                form.password.data,
                role=Role.ADMIN if form.admin.data else Role.MODERATOR,
                site_slugs=form.sites.data or [],
                email=form.email.data or None,
                actor=current_user,
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(f"Created {moderator.role.value} {moderator.username}.", "info")
            return redirect(url_for("moderation.moderators"))
    return _list_page(form), 422


def _moderator_or_404(moderator_id: int) -> Moderator:
    try:
        return accounts.get_moderator(moderator_id)
    except accounts.ModeratorNotFound:
        abort(404)


def _account_page(moderator: Moderator, status: int = 200, **forms):
    sites_form = forms.get("sites_form") or ModeratorSitesForm(
        formdata=None, data={"sites": [s.slug for s in moderator.sites]}
    )
    sites_form.sites.choices = _site_choices()
    return page(
        "moderation/moderator.html",
        moderator=moderator,
        button_form=EmptyForm(),
        password_form=forms.get("password_form") or PasswordResetForm(formdata=None),
        sites_form=sites_form,
    ), status


def _to_account(moderator: Moderator):
    return redirect(url_for("moderation.moderator", moderator_id=moderator.id))


@bp.get("/moderators/<int:moderator_id>")
@admin_required
def moderator(moderator_id: int):
    """One account: deactivate or reactivate it, reset its password, its sites."""
    return _account_page(_moderator_or_404(moderator_id))


@bp.post("/moderators/<int:moderator_id>/deactivate")
@admin_required
def deactivate_moderator(moderator_id: int):
    """Deactivate an account and end its sessions (never your own, never the
    last active admin)."""
    moderator = _moderator_or_404(moderator_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        accounts.deactivate(moderator, acting=current_user)
    except ValidationFailed as error:
        flash(error.fields["moderator"], "error")
        return _account_page(moderator, 422)
    except accounts.LastAdmin:
        flash(f"{moderator.username} is the last active admin.", "error")
        return _account_page(moderator, 422)
    flash(f"Deactivated {moderator.username}; their sessions ended.", "info")
    return _to_account(moderator)


@bp.post("/moderators/<int:moderator_id>/reactivate")
@admin_required
def reactivate_moderator(moderator_id: int):
    """Let a deactivated account log in again."""
    moderator = _moderator_or_404(moderator_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    accounts.reactivate(moderator, actor=current_user)
    flash(f"Reactivated {moderator.username}.", "info")
    return _to_account(moderator)


@bp.post("/moderators/<int:moderator_id>/password")
@admin_required
def reset_password(moderator_id: int):
    """Set an account's password; its sessions end."""
    moderator = _moderator_or_404(moderator_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(
                moderator, form.new_password.data, "new_password", actor=current_user
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(
                f"Set a new password for {moderator.username}; their sessions ended.",
                "info",
            )
            if moderator.id == current_user.id:
                login_user(moderator)  # the admin's own session goes on
            return _to_account(moderator)
    return _account_page(moderator, 422, password_form=form)


@bp.post("/moderators/<int:moderator_id>/sites")
@admin_required
def moderator_sites(moderator_id: int):
    """Replace the sites an account moderates."""
    moderator = _moderator_or_404(moderator_id)
    form = ModeratorSitesForm()
    form.sites.choices = _site_choices()
    # A slug that is not a site is the service's to explain, so that the message
    # names it (the select's own check would only say "not a valid choice").
    form.sites.pre_validate = lambda form: None
    if form.validate_on_submit():
        try:
            accounts.set_sites(moderator, form.sites.data or [], actor=current_user)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(f"Saved the sites of {moderator.username}.", "info")
            return _to_account(moderator)
    return _account_page(moderator, 422, sites_form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def own_password():
    """Change your own password (the current one first); your other sessions
    end, this one goes on. Wrong current passwords are limited like logins: at
    PASSWORD_CHANGE_MAX_FAILURES every session of yours ends."""
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            login_guard.change_own_password(
                current_user._get_current_object(),
                form.current_password.data,
                form.new_password.data,
            )
        except login_guard.PasswordFormLocked:
            logout_user()
            flash(
                "Too many wrong current passwords: you are logged out everywhere. "
                "Log in again to change your password.",
                "error",
            )
            return redirect(url_for("moderation.login"))
        except login_guard.GuardUnavailable:
            flash(
                "Your password cannot be changed right now: try again in a minute.",
                "error",
            )
            return page("moderation/password.html", form=form), 503
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            # This session goes on, under the new generation.
            login_user(current_user._get_current_object())
            flash("Your password is changed; your other sessions ended.", "info")
            return redirect(url_for("moderation.own_password"))
    if form.is_submitted():
        status = 422
    return page("moderation/password.html", form=form), status

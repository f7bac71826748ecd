"""Views of the moderation UI: log in, log out, the landing page."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from ..models import Site
from ..ratelimit import TRUSTED_LOGIN_DEVICE, client_ip
from . import bp, devices, login_guard
from .accounts import end_sessions, load_moderator
from .forms import EmptyForm, LoginForm

login_manager.user_loader(load_moderator)


@bp.record_once
def _trust_device_cookies(state):
    # The per-account login limit exempts browsers with a device cookie.
    state.app.extensions[TRUSTED_LOGIN_DEVICE] = devices.request_device


@bp.app_context_processor
def _navigation():
    # The webhooks pages live in their own blueprint; link them when present.
    return {"has_webhooks_ui": "webhooks_admin.endpoints" in current_app.view_functions}


def safe_next(target: str | None) -> str | None:
    """*target* if it is a path on this site, else None: no open redirects."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return None
    return target


def visible_sites() -> list[Site]:
    """The sites the current moderator may see: all for an admin."""
    if current_user.is_admin:
        return list(db.session.scalars(sa.select(Site).order_by(Site.slug)))
    return sorted(current_user.sites, key=lambda s: s.slug)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a moderator in: rate-limited per IP and per account and IP; after
    repeated failures for an account, only with a captcha answered (unless the
    browser holds a device cookie for the account). A login starts a new
    session."""
    if current_user.is_authenticated:
        return redirect(url_for("moderation.queue"))
    form = LoginForm()
    captcha = None
    if form.validate_on_submit():
        try:
            moderator = login_guard.log_in(
                form.username.data,
                form.password.data,
                login_guard.token_from(request.form),
                client_ip(),
                devices.request_device(),
            )
        except login_guard.CaptchaRequired as refusal:
            flash(
                "The captcha could not be checked: try again in a minute."
                if refusal.unavailable
                else "Answer the captcha to log in.",
                "error",
            )
        except login_guard.WrongCredentials:
            flash("Wrong username or password.", "error")
        else:
            # A new session: nothing from before the login (a CSRF secret
            # someone planted or read, any other value) carries over.
            session.clear()
            login_user(moderator)
            response = redirect(
                safe_next(request.args.get("next")) or url_for("moderation.queue")
            )
            devices.remember(response, moderator.username)
            return response
        if devices.request_device() is None and login_guard.captcha_needed(
            form.username.data
        ):
            captcha = login_guard.widget()
            g.csp_frame_src = captcha.get("frame_sources")
            # The proof of work runs in a worker served from this origin.
            g.csp_worker_src = "'self'" if captcha["provider"] == "altcha" else None
    return render_template("moderation/login.html", form=form, captcha=captcha), (
        401 if form.is_submitted() and request.method == "POST" else 200
    )


@bp.post("/logout")
@login_required
def logout():
    """Log out everywhere: every session of this moderator ends, copies of the
    cookie included (a POST with a CSRF token, so no other site can do it)."""
    form = EmptyForm()
    if form.validate_on_submit():
        end_sessions(current_user._get_current_object())
        logout_user()
        flash("You are logged out.", "info")
        return redirect(url_for("moderation.login"))
    return redirect(url_for("moderation.queue"))


@bp.get("/")
@login_required
def index():
    """The moderation queue is the landing page."""
    return redirect(url_for("moderation.queue"))

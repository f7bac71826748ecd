"""Views of the moderation UI: log in, log out, the landing page."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from ..models import Site
from . import bp
from .accounts import authenticate, load_moderator
from .forms import EmptyForm, LoginForm

login_manager.user_loader(load_moderator)


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
    """Log a moderator in (rate-limited per IP and per account)."""
    if current_user.is_authenticated:
        return redirect(url_for("moderation.queue"))
    form = LoginForm()
    if form.validate_on_submit():
        moderator = authenticate(form.username.data, form.password.data)
        if moderator is not None:
            login_user(moderator)
            return redirect(
                safe_next(request.args.get("next")) or url_for("moderation.queue")
            )
        flash("Wrong username or password.", "error")
    return render_template("moderation/login.html", form=form), (
        401 if form.is_submitted() and request.method == "POST" else 200
    )


@bp.post("/logout")
@login_required
def logout():
    """Log out (a POST with a CSRF token, so no other site can log you out)."""
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are logged out.", "info")
        return redirect(url_for("moderation.login"))
    return redirect(url_for("moderation.queue"))


@bp.get("/")
@login_required
def index():
    """The moderation queue is the landing page."""
    return redirect(url_for("moderation.queue"))

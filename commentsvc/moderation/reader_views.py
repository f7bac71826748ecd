"""A reader's account, for the moderators of its site (admins: every site's):
who it is, its history, and what can be done to it (suspend for a time, lift,
ban, unban, staff on or off), each with a reason. The rules live in
commentsvc.accounts.moderation; these views parse and show."""

from datetime import UTC, datetime, time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..accounts import StaffAccountRefused, UnknownAccount
from ..accounts import moderation as rules
from ..comments.access import NotAllowed
from ..comments.errors import ValidationFailed
from ..comments.queue import pending_count, reported_count
from ..extensions import db
from ..ids import bounded_id
from ..models import Site, utcnow
from . import bp
from .forms import EmptyForm, refusal
from .reader_forms import BanAccountForm, ReasonForm, SuspendForm

bp.add_app_template_global(rules.suspended_until, "account_suspended_until")


def _account(account_id: int):
    """The account, if the moderator moderates its site: 404 for an unknown
    one, 403 for another site's."""
    try:
        return rules.account_for(current_user, account_id)
    except UnknownAccount:
        abort(404)
    except NotAllowed:
        abort(403)


@bp.get("/accounts/<int:account_id>")
@login_required
def reader_account(account_id: int):
    """A reader's account: provider, name, e-mail, created, last seen, its
    standing, its counts by status and its comments, newest first, a page at
    a time (``before``: the comment the previous page ended with)."""
    account = _account(account_id)
    before = bounded_id(request.args.get("before", "")) or None
    return render_template(
        "moderation/reader_account.html",
        account=account,
        site=db.session.get(Site, account.site_id),
        suspended_until=rules.suspended_until(account),
        history=rules.history(account, before),
        suspend_form=SuspendForm(),
        ban_form=BanAccountForm(),
        reason_form=ReasonForm(),
        logout_form=EmptyForm(),
        pending=pending_count(current_user),
        reported=reported_count(current_user),
    )


def _back(account_id: int):
    return redirect(url_for("moderation.reader_account", account_id=account_id))


def _act(account_id: int, form, action):
    """Run *action(account)* for a valid *form*; flash what happened or why
    not, and go back to the account's page."""
    account = _account(account_id)
    if not form.validate_on_submit():
        flash(refusal(form), "error")
        return _back(account_id)
    try:
        said = action(account)
    except ValidationFailed as error:
        for message in error.fields.values():
            flash(message, "error")
    except StaffAccountRefused as error:
        flash(str(error), "error")
    else:
        flash(said, "info")
    return _back(account_id)


def _until(form: SuspendForm) -> datetime:
    if form.span.data in rules.SPANS:
        return utcnow() + rules.SPANS[form.span.data]
    if form.until.data is None:
        raise ValidationFailed({"until": "Choose the date the suspension ends."})
    # Through the end of that day (UTC), as bans until a date.
    return datetime.combine(form.until.data, time.max, tzinfo=UTC)


@bp.post("/accounts/<int:account_id>/suspend")
@login_required
def suspend_account(account_id: int):
    """Suspend the account for 1, 7 or 30 days or until a date, with a reason
    the reader is shown on their next post."""
    form = SuspendForm()

    def suspend(account):
        until = _until(form)
        rules.suspend(current_user, account, until, form.reason.data)
        return f"{account.name} is suspended until {until:%Y-%m-%d %H:%M} UTC."

    return _act(account_id, form, suspend)


@bp.post("/accounts/<int:account_id>/lift")
@login_required
def lift_suspension(account_id: int):
    """End the account's suspension now."""
    form = ReasonForm()

    def lift(account):
        if rules.lift(current_user, account, form.reason.data):
            return f"The suspension of {account.name} is lifted."
        return f"{account.name} was not suspended."

    return _act(account_id, form, lift)


@bp.post("/accounts/<int:account_id>/ban")
@login_required
def ban_account(account_id: int):
    """Ban the account (it is signed out everywhere)."""
    form = BanAccountForm()

    def ban(account):
        rules.ban(current_user, account, form.reason.data)
        return f"{account.name} is banned and signed out everywhere."

    return _act(account_id, form, ban)


@bp.post("/accounts/<int:account_id>/unban")
@login_required
def unban_account(account_id: int):
    """Lift the account's ban."""
    form = ReasonForm()

    def unban(account):
        if rules.unban(current_user, account, form.reason.data):
            return f"The ban on {account.name} is lifted."
        return f"{account.name} was not banned."

    return _act(account_id, form, unban)


@bp.post("/accounts/<int:account_id>/staff")
@login_required
def account_staff(account_id: int):
    """Staff on (``staff=on``) or off: the badge on its comments from now on."""
    form = ReasonForm()
    wanted = request.form.get("staff") == "on"

    def staff(account):
        rules.set_staff(current_user, account, wanted, form.reason.data)
        return (
            f"{account.name} is staff: their comments carry the Staff badge."
            if wanted
            else f"{account.name} is no longer staff."
        )

    return _act(account_id, form, staff)

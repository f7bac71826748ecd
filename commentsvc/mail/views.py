"""The pages a mail's links open. A GET never changes anything (link scanners
and mail prefetch open every link): it shows a page whose button POSTs."""

from flask import Blueprint, abort, render_template, request, url_for

from ..comments.moderation import ACTIONS
from ..extensions import csrf
from ..moderation.forms import EmptyForm
from . import links, readers
from .moderators import (
    MailDecisionRefused,
    MailLinkRevoked,
    check_link,
    decide_by_link,
)
from .strings import STRINGS, t

bp = Blueprint("mail", __name__, url_prefix="/mail")


def _resume(outcome) -> dict:
    """The "start mail again" link a page shows after "stop all mail"."""
    if outcome is None or outcome.resume_token is None:
        return {}
    return {
        "resume_url": url_for("mail.resume", token=outcome.resume_token),
        "resume_label": t("resume_offer", site=outcome.site_name),
    }


def _message(text: str, status: int, title: str | None = None, outcome=None):
    page = render_template(
        "mail/pages/message.html",
        title=title or text,
        text=text,
        s=STRINGS,
        **_resume(outcome),
    )
    return page, status, {"Cache-Control": "no-store"}


def _link_error(error: Exception, expired: str = "page_link_expired"):
    """The page for a link we cannot act on: every kind of link error gets
    one (never a 500)."""
    if isinstance(error, links.LinkExpired):
        return _message(STRINGS[expired], 410)
    if isinstance(error, MailLinkRevoked):
        return _message(STRINGS["page_link_revoked"], 403)
    if isinstance(error, MailDecisionRefused):
        return _message(STRINGS["page_not_allowed"], 403)
    return _message(STRINGS["page_link_invalid"], 400)


def _conflict_page(decision):
    conflict = decision.conflict
    by = f" by {conflict.moderated_by}" if conflict.moderated_by else ""
    return _message(t("page_decided_already", by=by, status=conflict.status.value), 409)


@bp.route("/decide/<token>", methods=["GET", "POST"])
def decide(token: str):
    """A moderator's Approve/Spam/Reject link: the comment and one button."""
    form = EmptyForm()
    try:
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400, "The form expired. Open the link from the mail again.")
            decision = decide_by_link(token)
        else:
            decision = check_link(token)
    except (links.LinkError, MailDecisionRefused) as error:
        return _link_error(error)
    if decision.conflict is not None:
        return _conflict_page(decision)
    if request.method == "POST":
        return _message(
            t("page_decide_done", status=ACTIONS[decision.action].value), 200
        )
    page = render_template(
        "mail/pages/decide.html",
        decision=decision,
        action_word=STRINGS[decision.action],
        title=t("page_decide_title", action=STRINGS[decision.action]),
        form=form,
        s=STRINGS,
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """A reader's double opt-in: a page whose button confirms the address."""
    form = EmptyForm()
    try:
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400, "The form expired. Open the link from the mail again.")
            outcome = readers.confirm(token)
            if outcome.unsubscribed:
                text = t("page_confirm_after_stop", site=outcome.site_name)
                return _message(text, 200, outcome=outcome)
            return _message(STRINGS["page_confirmed"], 200)
        outcome = readers.check_confirm(token)
    except links.LinkError as error:
        return _link_error(error, expired="confirm_expired")
    page = render_template(
        "mail/pages/button.html",
        title=STRINGS["page_confirm_title"],
        text=t("confirm_intro", site=outcome.site_name),
        button=STRINGS["confirm_button"],
        form=form,
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """The unsubscribe link opened in a browser: a page with the button."""
    try:
        outcome = readers.check_unsubscribe(token)
    except links.LinkError as error:
        return _link_error(error)
    what = (
        t("unsubscribe_all", site=outcome.site_name)
        if outcome.whole_site
        else STRINGS["unsubscribe_thread"]
    )
    page = render_template(
        "mail/pages/button.html",
        title=STRINGS["page_unsubscribe_title"],
        text=what,
        button=what,
        form=None,
        **_resume(outcome),
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str):
    """Unsubscribe at once: the page's button, or a mail client's one-click
    POST (RFC 8058: no session, no CSRF token; the signed link is the proof)."""
    try:
        outcome = readers.unsubscribe(token)
    except links.LinkError as error:
        return _link_error(error)
    if outcome.whole_site:
        text = t("page_unsubscribed_all", site=outcome.site_name)
        return _message(text, 200, outcome=outcome)
    return _message(STRINGS["page_unsubscribed_thread"], 200, outcome=outcome)


@bp.route("/resume/<token>", methods=["GET", "POST"])
def resume(token: str):
    """Undo "stop all mail": offered on the pages of a link mailed to the
    address, so only its owner reaches it."""
    form = EmptyForm()
    try:
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400, "The form expired. Open the link from the mail again.")
            outcome = readers.resume(token)
            return _message(t("page_resumed", site=outcome.site_name), 200)
        outcome = readers.check_resume(token)
    except links.LinkError as error:
        return _link_error(error)
    page = render_template(
        "mail/pages/button.html",
        title=t("resume_title", site=outcome.site_name),
        text=t("resume_intro", site=outcome.site_name),
        button=STRINGS["resume_button"],
        form=form,
    )
    return page, 200, {"Cache-Control": "no-store"}

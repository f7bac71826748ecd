"""The admins' webhook pages under /moderation/webhooks: endpoints per site,
adding one (its secret shown once), the delivery log with Redeliver, ping,
rotate, disable and enable. Thin: every action is a call to the service."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from wtforms import SelectChoice

from ..comments.errors import SiteNotFound, ValidationFailed
from ..extensions import db, login_manager
from ..models import Site, WebhookDelivery
from ..moderation.forms import EmptyForm
from . import endpoints as service
from .forms import AddEndpointForm

# Named so that the moderation navigation links it (see moderation/views.py).
bp = Blueprint("webhooks_admin", __name__, url_prefix="/moderation/webhooks")


@bp.before_request
def require_admin():
    """Admins only: others are sent to the login page, or refused (403)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


def _sites() -> list[Site]:
    return list(db.session.scalars(sa.select(Site).order_by(Site.slug)))


def _add_form() -> AddEndpointForm:
    form = AddEndpointForm()
    form.site.choices = [SelectChoice(s.slug, f"{s.name} ({s.slug})") for s in _sites()]
    return form


def _index(form: AddEndpointForm, status: int = 200):
    by_site = {site.id: (site, []) for site in _sites()}
    for endpoint in service.list_endpoints():
        by_site[endpoint.site_id][1].append(endpoint)
    return (
        render_template(
            "webhooks/index.html",
            groups=list(by_site.values()),
            pending_deliveries=service.pending_counts(),
            form=form,
            logout_form=EmptyForm(),
        ),
        status,
    )


def _secret_page(endpoint, secret: str, rotated: bool = False):
    response = render_template(
        "webhooks/secret.html",
        endpoint=endpoint,
        secret=secret,
        rotated=rotated,
        logout_form=EmptyForm(),
    )
    # The secret must not linger in a cache or the back button's history.
    return response, 200, {"Cache-Control": "no-store"}


@bp.get("/")
def endpoints():
    """Every site's endpoints, disabled ones flagged, and the form to add one."""
    return _index(_add_form())


@bp.post("/")
def add():
    """Register an endpoint and show its signing secret, this once."""
    form = _add_form()
    if form.validate_on_submit():
        try:
            endpoint, secret = service.add_endpoint(
                form.site.data, form.url.data, form.events.data, actor=current_user
            )
        except SiteNotFound:
            form.site.errors.append("There is no such site.")
        except ValidationFailed as error:
            for name, message in error.fields.items():
                getattr(form, name, form.url).errors.append(message)
        else:
            return _secret_page(endpoint, secret)
    return _index(form, 422)


def _endpoint_or_404(endpoint_id: int):
    try:
        return service.get_endpoint(endpoint_id)
    except service.EndpointNotFound:
        abort(404)


@bp.get("/<int:endpoint_id>")
def endpoint(endpoint_id: int):
    """An endpoint and its delivery log: status code, latency, the answer's
    start and every attempt, with a Redeliver button per delivery."""
    found = _endpoint_or_404(endpoint_id)
    return render_template(
        "webhooks/endpoint.html",
        endpoint=found,
        entries=service.delivery_log(endpoint_id),
        form=EmptyForm(),
        logout_form=EmptyForm(),
    )


def _checked_post() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")


@bp.post("/<int:endpoint_id>/ping")
def ping(endpoint_id: int):
    """Queue a ping to the endpoint."""
    _checked_post()
    _endpoint_or_404(endpoint_id)
    try:
        delivery = service.send_ping(endpoint_id)
    except ValidationFailed as error:
        flash(" ".join(error.fields.values()), "error")
    else:
        flash(f"Ping queued (webhook-id {delivery.message_id}).", "info")
    return redirect(url_for(".endpoint", endpoint_id=endpoint_id))


@bp.post("/<int:endpoint_id>/rotate-secret")
def rotate_secret(endpoint_id: int):
    """Give the endpoint a new secret (shown once); the old one signs beside
    it for 24 hours."""
    _checked_post()
    _endpoint_or_404(endpoint_id)
    secret = service.rotate_secret(endpoint_id, actor=current_user)
    return _secret_page(service.get_endpoint(endpoint_id), secret, rotated=True)


@bp.post("/<int:endpoint_id>/disable")
def disable(endpoint_id: int):
    """Stop sending to the endpoint."""
    _checked_post()
    _endpoint_or_404(endpoint_id)
    service.disable(
        endpoint_id, f"Disabled by {current_user.username}.", actor=current_user
    )
    flash("The endpoint is disabled; its pending deliveries failed.", "info")
    return redirect(url_for(".endpoint", endpoint_id=endpoint_id))


@bp.post("/<int:endpoint_id>/enable")
def enable(endpoint_id: int):
    """Send to the endpoint again."""
    _checked_post()
    _endpoint_or_404(endpoint_id)
    service.enable(endpoint_id, actor=current_user)
    flash("The endpoint is enabled.", "info")
    return redirect(url_for(".endpoint", endpoint_id=endpoint_id))


@bp.post("/deliveries/<int:delivery_id>/redeliver")
def redeliver(delivery_id: int):
    """Send a delivery again, with the same webhook-id."""
    _checked_post()
    try:
        delivery = service.redeliver(delivery_id)
    except service.DeliveryNotFound:
        abort(404)
    except ValidationFailed as error:
        flash(" ".join(error.fields.values()), "error")
        endpoint_id = db.session.get(WebhookDelivery, delivery_id).endpoint_id
    else:
        flash(f"Delivery {delivery.id} queued again.", "info")
        endpoint_id = delivery.endpoint_id
    return redirect(url_for(".endpoint", endpoint_id=endpoint_id))

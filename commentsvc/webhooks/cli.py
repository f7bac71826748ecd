"""``flask --app wsgi webhooks ...``: endpoints, the delivery log and the worker."""

import contextlib
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..comments.errors import SiteNotFound, ValidationFailed
from ..mail.cli import run_beside
from ..models import as_utc
from ..wakeup import stop_on_signals
from . import endpoints as service
from .endpoints import DeliveryNotFound, EndpointNotFound
from .worker import Worker

webhooks_cli = AppGroup(
    "webhooks", help="Webhook endpoints, deliveries and the worker."
)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _fail_validation(error: ValidationFailed) -> None:
    for field, message in error.fields.items():
        click.echo(f"error: {field}: {message}", err=True)
    sys.exit(1)


@contextlib.contextmanager
def _errors():
    try:
        yield
    except ValidationFailed as error:
        _fail_validation(error)
    except SiteNotFound as error:
        _fail(f"there is no site {error.args[0]!r}")
    except EndpointNotFound as error:
        _fail(f"there is no webhook endpoint {error.args[0]}")
    except DeliveryNotFound as error:
        _fail(f"there is no webhook delivery {error.args[0]}")


def _when(value) -> str:
    value = as_utc(value)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


@webhooks_cli.command("add")
@click.argument("site")
@click.argument("url")
@click.option(
    "--events",
    "events",
    multiple=True,
    help="Event types to send (repeat or comma-separate; default: all): "
    + ", ".join(service.SUBSCRIBABLE_EVENTS),
)
def add_command(site, url, events):
    """Register URL for the site SITE and print its signing secret (once)."""
    with _errors():
        endpoint, secret = service.add_endpoint(site, url, events)
    click.echo(f"created webhook endpoint {endpoint.id} for {site}: {endpoint.url}")
    click.echo(f"events: {', '.join(endpoint.events) or 'all'}")
    click.echo(f"signing secret (shown only now, keep it safe): {secret}")


@webhooks_cli.command("list")
def list_command():
    """List the endpoints of every site (secrets are never shown)."""
    pending = service.pending_counts()
    endpoints = service.list_endpoints()
    if not endpoints:
        click.echo("none")
    for endpoint in endpoints:
        state = "enabled"
        if not endpoint.enabled:
            state = f"DISABLED ({endpoint.disabled_reason or 'no reason given'})"
        elif endpoint.failing_since:
            state = f"enabled, failing since {_when(endpoint.failing_since)}"
        click.echo(
            f"{endpoint.id}\t{endpoint.site.slug}\t{endpoint.url}\t{state}"
            f"\tevents={','.join(endpoint.events) or 'all'}"
            f"\tpending={pending.get(endpoint.id, 0)}"
        )


@webhooks_cli.command("rotate-secret")
@click.argument("endpoint_id", type=int)
def rotate_secret_command(endpoint_id):
    """Give an endpoint a new secret; the old one signs beside it for 24 h."""
    with _errors():
        secret = service.rotate_secret(endpoint_id)
        endpoint = service.get_endpoint(endpoint_id)
    click.echo(f"new signing secret (shown only now, keep it safe): {secret}")
    click.echo(
        "the previous secret keeps signing beside it until "
        f"{_when(endpoint.previous_secret_expires_at)}"
    )


@webhooks_cli.command("ping")
@click.argument("endpoint_id", type=int)
def ping_command(endpoint_id):
    """Queue a ping event to test an endpoint (the worker sends it)."""
    with _errors():
        delivery = service.send_ping(endpoint_id)
    click.echo(f"queued ping: delivery {delivery.id}, webhook-id {delivery.message_id}")


@webhooks_cli.command("redeliver")
@click.argument("delivery_id", type=int)
def redeliver_command(delivery_id):
    """Send a delivery again (same webhook-id, fresh retry schedule)."""
    with _errors():
        delivery = service.redeliver(delivery_id)
    click.echo(
        f"queued delivery {delivery.id} again (webhook-id {delivery.message_id})"
    )


@webhooks_cli.command("disable")
@click.argument("endpoint_id", type=int)
@click.option("--reason", default="Disabled by an admin.")
def disable_command(endpoint_id, reason):
    """Stop sending to an endpoint; its pending deliveries fail."""
    with _errors():
        service.disable(endpoint_id, reason)
    click.echo(f"disabled webhook endpoint {endpoint_id}")


@webhooks_cli.command("enable")
@click.argument("endpoint_id", type=int)
def enable_command(endpoint_id):
    """Send to a disabled endpoint again."""
    with _errors():
        service.enable(endpoint_id)
    click.echo(f"enabled webhook endpoint {endpoint_id}")


@webhooks_cli.command("deliveries")
@click.argument("endpoint_id", type=int)
@click.option("--limit", type=click.IntRange(1, 1000), default=20)
def deliveries_command(endpoint_id, limit):
    """The latest deliveries to an endpoint and how their last attempt went."""
    with _errors():
        entries = service.delivery_log(endpoint_id, limit)
    if not entries:
        click.echo("none")
    for entry in entries:
        d, latest = entry.delivery, entry.latest
        outcome = "-"
        if latest is not None:
            outcome = str(latest.status_code or latest.error or "-")
            if latest.latency_ms is not None:
                outcome += f" in {latest.latency_ms} ms"
        click.echo(
            f"{d.id}\t{entry.event_type}\t{d.status.value}\tattempts={d.attempts}"
            f"\tlast={outcome}\tnext={_when(d.next_attempt_at)}\t{d.message_id}"
        )


@webhooks_cli.command("worker")
@click.option("--once", is_flag=True, help="Send what is due, then exit.")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    help="Seconds between looks at the database when Redis stays silent "
    "(default: WEBHOOK_POLL_INTERVAL).",
)
def worker_command(once, poll_interval):
    """Send webhooks: claim due deliveries, sign, send, record, retry. With
    COMMENTSVC_MAIL_URL set, it sends mail too (as ``mail worker``)."""
    try:
        worker = Worker.from_app(current_app, poll_interval=poll_interval)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    # Finish the sends in flight (by their deadline at the latest), then exit:
    # nothing is sent twice needlessly.
    mailer = run_beside(current_app._get_current_object(), worker.stop, once)
    try:
        with stop_on_signals(worker.stop, enabled=not once):
            stats = worker.run_until_idle() if once else worker.run()
    finally:
        worker.stop.set()
        if mailer is not None:
            mailer.join()
        worker.close()
    click.echo(
        f"webhooks worker: {stats.attempts} attempts, {stats.succeeded} delivered, "
        f"{stats.retrying} to retry, {stats.failed} failed"
    )

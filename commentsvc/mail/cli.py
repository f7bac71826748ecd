"""``flask --app wsgi mail ...``: the worker, digests, moderators' settings and
the purge of unconfirmed addresses."""

import sys
import threading
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from ..comments.errors import SiteNotFound, ValidationFailed
from ..comments.purge import parse_duration
from ..extensions import db
from ..models import Moderator
from ..wakeup import stop_on_signals
from . import digest, readers
from .moderators import set_mode, settings_of
from .outbox import MODES
from .worker import Stats, Worker

mail_cli = AppGroup("mail", help="Mail to moderators and readers.")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _summary(stats: Stats) -> str:
    return (
        f"mail worker: {stats.sent} sent, {stats.retrying} to retry, "
        f"{stats.failed} failed, {stats.skipped} no longer needed"
    )


def _worker(poll_interval=None) -> Worker:
    try:
        return Worker.from_app(current_app, poll_interval=poll_interval)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


@mail_cli.command("worker")
@click.option("--once", is_flag=True, help="Send what is due, then exit.")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    help="Seconds between looks at the database when Redis stays silent "
    "(default: MAIL_POLL_INTERVAL).",
)
def worker_command(once, poll_interval):
    """Send mail: claim due messages, render, send, retry; gather digests."""
    worker = _worker(poll_interval)
    try:
        with stop_on_signals(worker.stop, enabled=not once):
            stats = worker.run_until_idle() if once else worker.run()
    finally:
        worker.close()
    click.echo(_summary(stats))


def run_beside(app, stop: threading.Event, once: bool) -> threading.Thread | None:
    """Run a mail worker in a thread beside another worker (``webhooks
    worker``), stopping with it; None when mail is not configured."""
    if not app.config.get("MAIL_URL"):
        return None

    def work():
        with app.app_context():
            worker = Worker.from_app(app)
            worker.stop = stop
            try:
                worker.run_until_idle() if once else worker.run()
            finally:
                worker.close()

    thread = threading.Thread(target=work, name="mail-worker", daemon=True)
    thread.start()
    return thread


@mail_cli.command("digest")
def digest_command():
    """Queue the digests that are due now (the worker does this every minute)."""
    queued = digest.gather()
    click.echo(f"queued {queued} digest{'s' if queued != 1 else ''}")


@mail_cli.command("settings")
@click.argument("username")
@click.option("--site", "site_slug", help="The site to change (with --mode).")
@click.option("--mode", type=click.Choice(MODES), help="What mail to get about it.")
def settings_command(username, site_slug, mode):
    """Show (or with --site and --mode, change) USERNAME's mail per site."""
    moderator = (
        db.session.scalar(db.select(Moderator).where(Moderator.username == username))
        if username.isprintable()  # no account has another (nor NUL, refused)
        else None
    )
    if moderator is None:
        _fail(f"there is no moderator {username!r}")
    if bool(site_slug) != bool(mode):
        _fail("give both --site and --mode to change a setting")
    if site_slug:
        try:
            set_mode(moderator, site_slug, mode)
        except SiteNotFound:
            _fail(f"there is no site {site_slug!r}")
        except ValidationFailed as error:
            _fail(" ".join(error.fields.values()))
    click.echo(f"{username} <{moderator.email or 'no email address'}>")
    settings = list(settings_of(moderator))
    if not settings:
        click.echo("no sites")
    for site, current in settings:
        click.echo(f"{site.slug}\t{current}")


@mail_cli.command("purge-unconfirmed")
@click.option(
    "--older-than",
    default=None,
    help="Age of the unconfirmed addresses to delete (7d, 12h); default: "
    "COMMENTSVC_MAIL_UNCONFIRMED_DAYS (7 days).",
)
def purge_unconfirmed_command(older_than):
    """Delete readers' addresses never confirmed, with their subscriptions."""
    if older_than is None:
        age = timedelta(days=current_app.config["MAIL_UNCONFIRMED_DAYS"])
    else:
        try:
            age = parse_duration(older_than)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--older-than") from None
    removed = readers.purge_unconfirmed(age)
    click.echo(f"purged {removed} unconfirmed address{'es' if removed != 1 else ''}")

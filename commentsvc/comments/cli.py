"""``flask --app wsgi comments ...`` (housekeeping of stored comments) and
``threads ...`` (listing threads, opening and closing them to comments)."""

import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from ..accounts import email as sign_in_links
from ..accounts import sessions
from ..spam import neardup
from . import closing, purge
from .errors import SiteNotFound, ThreadNotFound

comments_cli = AppGroup("comments", help="Housekeeping of stored comments.")
threads_cli = AppGroup("threads", help="List threads; open and close them to comments.")


def _duration(ctx, param, value):
    """An --older-than value (30d, 12h, 90m) as a timedelta; None stays None."""
    if value is None:
        return None
    try:
        return purge.parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@comments_cli.command("purge-spam")
@click.option(
    "--older-than",
    default="30d",
    show_default=True,
    callback=_duration,
    help="Age of the spam to delete: 30d, 12h, 90m.",
)
def purge_spam_command(older_than):
    """Delete spam older than --older-than (moderators had their chance)."""
    removed = purge.purge_spam(older_than)
    click.echo(f"purged {removed} spam comment{'s' if removed != 1 else ''}")


@comments_cli.command("sign-near-duplicates")
def sign_near_duplicates_command():
    """Sign the comments stored before the near-duplicate rules (or imported),
    so that they count for them (see docs/spam.md)."""
    signed = neardup.sign_missing()
    click.echo(f"signed {signed} comment{'' if signed == 1 else 's'}")


@comments_cli.command("purge-ips")
@click.option(
    "--older-than",
    default=None,
    callback=_duration,
    help="Erase IPs of comments older than this (30d, 12h, 90m); default: "
    "COMMENTSVC_IP_RETENTION_DAYS (90 days).",
)
def purge_ips_command(older_than):
    """Erase commenters' IP addresses (and user agents) after the retention period."""
    if older_than is None:
        older_than = timedelta(days=current_app.config["IP_RETENTION_DAYS"])
    erased = purge.purge_ips(older_than)
    click.echo(f"erased the IP address of {erased} comment{'s' if erased != 1 else ''}")
    # Readers' sign-ins past their end go with the same daily purge.
    ended = sessions.purge_expired() + sign_in_links.purge_expired()
    click.echo(f"forgot {ended} expired reader session(s) and sign-in link(s)")


def _set_thread(slug: str, key: str, state: bool | None) -> None:
    try:
        closing.set_open(slug, key, state)
    except SiteNotFound:
        click.echo(f"error: there is no site {slug!r}", err=True)
        sys.exit(1)
    except ThreadNotFound:
        click.echo(
            f"error: site {slug!r} has no thread {key!r} (a thread begins with "
            "its first comment)",
            err=True,
        )
        sys.exit(1)


@threads_cli.command("close")
@click.argument("slug")
@click.argument("key")
def close_thread_command(slug, key):
    """Close the thread KEY of the site SLUG: it takes no new comments, whatever
    the site's rule."""
    _set_thread(slug, key, False)
    click.echo(f"closed {slug} {key}")


@threads_cli.command("open")
@click.argument("slug")
@click.argument("key")
def open_thread_command(slug, key):
    """Open the thread KEY of the site SLUG, even past the site's
    --close-after-days."""
    _set_thread(slug, key, True)
    click.echo(f"opened {slug} {key}")


@threads_cli.command("follow-site")
@click.argument("slug")
@click.argument("key")
def follow_site_thread_command(slug, key):
    """Forget a moderator's open or close of the thread KEY: it follows the
    site's --close-after-days again."""
    _set_thread(slug, key, None)
    click.echo(f"{slug} {key} follows the site's rule")


@threads_cli.command("list")
@click.argument("slug")
@click.option("--closed", "closed_only", is_flag=True, help="Only closed threads.")
def list_threads_command(slug, closed_only):
    """The threads of the site SLUG, newest first (tab-separated): key,
    open/closed, why (a moderator's choice, or the site's rule), approved
    comments, first comment's time, title."""
    try:
        states = closing.thread_states(slug, closed_only)
    except SiteNotFound:
        click.echo(f"error: there is no site {slug!r}", err=True)
        sys.exit(1)
    if not states:
        click.echo("none")
    for state in states:
        why = "moderator" if state.rule != "site" else "site rule"
        click.echo(
            f"{state.key}\t{'closed' if state.closed else 'open'}\t{why}"
            f"\t{state.approved}\t{state.created_at.isoformat(timespec='seconds')}"
            f"\t{state.title or '-'}"
        )

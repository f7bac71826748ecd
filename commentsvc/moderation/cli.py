"""``flask --app wsgi moderators ...`` (or ``commentsvc moderators ...``):
moderator accounts."""

import sys

import click
from flask.cli import AppGroup

from ..cli_errors import fail, stop
from ..comments.errors import ValidationFailed
from ..models import Role
from . import accounts
from .accounts import create_moderator

moderators_cli = AppGroup("moderators", help="Manage moderator accounts.")


@moderators_cli.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="An admin: every site, manages sites.")
@click.option("--site", "sites", multiple=True, help="A site to moderate (repeat).")
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def create_moderator_command(username, admin, sites, email, password_stdin):
    """Create a moderator; the password is asked for (or read from stdin)."""
    password = _read_password(password_stdin)
    try:
        moderator = create_moderator(
            username,
            password,
            role=Role.ADMIN if admin else Role.MODERATOR,
            site_slugs=list(sites),
            email=email,
        )
    except ValidationFailed as error:
        fail(error)
    click.echo(f"created {moderator.role.value} {moderator.username}")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _moderator(username: str):
    try:
        return accounts.get_moderator(username)
    except accounts.ModeratorNotFound:
        click.echo(f"error: there is no moderator {username!r}", err=True)
        sys.exit(1)


@moderators_cli.command("list")
def list_moderators_command():
    """List the accounts: username, role, sites, active or not (tab-separated)."""
    moderators = accounts.list_moderators()
    if not moderators:
        click.echo("none")
    for moderator in moderators:
        sites = (
            "every site"
            if moderator.is_admin
            else ",".join(sorted(s.slug for s in moderator.sites)) or "none"
        )
        state = "active" if moderator.active else "inactive"
        click.echo(f"{moderator.username}\t{moderator.role.value}\t{sites}\t{state}")


@moderators_cli.command("deactivate")
@click.argument("username")
def deactivate_moderator_command(username):
    """Deactivate USERNAME (no more logins) and end all of their sessions."""
    moderator = _moderator(username)
    try:
        accounts.deactivate(moderator)
    except accounts.LastAdmin:
        click.echo(f"error: {username!r} is the last active admin", err=True)
        sys.exit(1)
    click.echo(f"deactivated {username}; their sessions ended")


@moderators_cli.command("reactivate")
@click.argument("username")
def reactivate_moderator_command(username):
    """Let USERNAME log in again."""
    accounts.reactivate(_moderator(username))
    click.echo(f"reactivated {username}")


@moderators_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def set_password_command(username, password_stdin):
    """Set USERNAME's password (asked for, or read from stdin); ends all of
    their sessions."""
    moderator = _moderator(username)
    try:
        accounts.set_password(moderator, _read_password(password_stdin))
    except ValidationFailed as error:
        fail(error)
    click.echo(f"set the password of {username}; their sessions ended")


@moderators_cli.command("sites")
@click.argument("username")
@click.option("--site", "sites", multiple=True, help="Replace the sites (repeat).")
@click.option("--add-site", multiple=True, help="A site to add (repeat).")
@click.option("--remove-site", multiple=True, help="A site to remove (repeat).")
@click.option("--none", "clear", is_flag=True, help="Remove every site.")
def moderator_sites_command(username, sites, add_site, remove_site, clear):
    """Change the sites USERNAME moderates; prints them."""
    moderator = _moderator(username)
    current = [] if sites or clear else [s.slug for s in moderator.sites]
    removed = set(remove_site)
    absent = sorted(removed - {*current, *sites, *add_site})
    if absent:
        stop(
            f"--remove-site {absent[0]}: {username} does not moderate it "
            f"(they moderate: {', '.join(sorted(current)) or 'none'})"
        )
    wanted = [s for s in [*current, *sites, *add_site] if s not in removed]
    try:
        accounts.set_sites(moderator, wanted)
    except ValidationFailed as error:
        fail(error)
    shown = ", ".join(sorted(s.slug for s in moderator.sites)) or "none"
    click.echo(f"{username} moderates: {shown}")


@moderators_cli.command("end-sessions")
@click.argument("username")
def end_sessions_command(username):
    """Log USERNAME out everywhere (every session and copied cookie ends)."""
    accounts.end_sessions(_moderator(username))
    click.echo(f"ended every session of {username}")

"""``flask --app wsgi sites oidc SLUG ...``: the site's OpenID Connect
provider (docs/oidc.md)."""

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..cli_errors import stop
from ..sites import site_settings
from .oidc import issuer_problem
from .settings import change

# The columns' lengths (commentsvc/models/accounts.py).
LIMITS = {"--issuer": 500, "--client-id": 200, "the client secret": 500, "--label": 60}


def _check_length(what: str, value: str) -> None:
    if len(value) > LIMITS[what]:
        stop(f"{what}: at most {LIMITS[what]} characters")


@click.command("oidc")
@click.argument("slug")
@click.option("--issuer", help="The provider's issuer URL (https).")
@click.option("--client-id", help="The client id the provider gave the site.")
@click.option(
    "--client-secret-stdin",
    is_flag=True,
    help="Read the client secret from standard input (kept out of the shell "
    "history and the process list).",
)
@click.option("--label", help='The button\'s words: "Sign in with LABEL".')
@click.option("--off", is_flag=True, help="Stop offering OpenID Connect sign-in.")
@with_appcontext
def oidc_command(slug, issuer, client_id, client_secret_stdin, label, off):
    """Let readers of the site SLUG sign in with an OpenID Connect provider."""
    site = site_settings(slug)
    if site is None:
        stop(f"there is no site {slug!r}")
    if off:
        if issuer or client_id or client_secret_stdin or label:
            stop("--off takes no other option")
        change(
            site.id,
            slug,
            oidc_issuer=None,
            oidc_client_id=None,
            oidc_client_secret=None,
            oidc_label=None,
        )
        click.echo(f"site {slug}: OpenID Connect sign-in is off")
        return
    if not issuer or not client_id or not client_secret_stdin:
        stop("give --issuer URL, --client-id ID and --client-secret-stdin (or --off)")
    issuer = issuer.strip()
    problem = issuer_problem(issuer)
    if problem:
        stop(f"--issuer: {problem}")
    secret = sys.stdin.readline().strip()
    if not secret:
        stop("--client-secret-stdin read an empty line")
    label = (label or "").strip() or None
    for what, value in (
        ("--issuer", issuer),
        ("--client-id", client_id.strip()),
        ("the client secret", secret),
        ("--label", label or ""),
    ):
        _check_length(what, value)
    change(
        site.id,
        slug,
        oidc_issuer=issuer,
        oidc_client_id=client_id.strip(),
        oidc_client_secret=secret,
        oidc_label=label,
    )
    public = (current_app.config.get("PUBLIC_URL") or "<service URL>").rstrip("/")
    click.echo(f"site {slug}: sign in with {label or 'OpenID Connect'} at {issuer}")
    click.echo(f"redirect URI to register: {public}/auth/{slug}/oidc/callback")

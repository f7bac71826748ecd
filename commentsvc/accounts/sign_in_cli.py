"""``flask --app wsgi sites sso-secret SLUG`` and ``sites sign-in SLUG ...``:
how a site's readers sign in, from the command line (registered on the
``sites`` group by commentsvc/cli.py; with_appcontext because a command added
to a group, rather than made by it, gets no app context of its own)."""

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..cli_errors import fail, stop
from ..comments.errors import ValidationFailed
from ..extensions import db
from ..models import Site
from . import sso
from .configure import rotate_sso_secret
from .configure import update as update_sign_in
from .settings import sign_in_settings

# The option of each setting whose name differs (for its errors).
_OPTION = {"sso_public_key": "sso_public_key_file"}


def _site(slug: str) -> Site:
    site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    if site is None:
        stop(f"there is no site {slug!r}")
    return site


@click.command("sso-secret")
@click.argument("slug")
@with_appcontext
def sso_secret_command(slug):
    """Create or rotate the SSO signing secret of the site SLUG and print it
    (once: it is never shown again). Tokens signed with the old one are
    refused from now on."""
    site = _site(slug)
    secret = rotate_sso_secret(site)
    # Only the secret on standard output, so that a script can capture it.
    click.echo(secret)
    algorithm = sign_in_settings(site.id, site.slug).sso_algorithm or "HS256"
    click.echo(
        f"The SSO secret of site {slug} (shown once; keep it on your server). "
        "Sign HS256 tokens with it, audience "
        f"{slug!r}; tokens signed with the previous secret are refused now.",
        err=True,
    )
    if algorithm != "HS256":
        click.echo(
            f"note: site {slug} checks tokens with {algorithm} and its public "
            "key; this secret is used only with --sso-algorithm HS256.",
            err=True,
        )


@click.command("sign-in")
@click.argument("slug")
@click.option(
    "--guests/--no-guests",
    "guests_allowed",
    default=None,
    help="Guests may comment without signing in (on by default).",
)
@click.option(
    "--skip-captcha/--no-skip-captcha",
    "sso_skip_captcha",
    default=None,
    help="Signed-in readers post without a captcha (on by default).",
)
@click.option(
    "--email/--no-email",
    "email_sign_in",
    default=None,
    help="Readers may sign in with a link by e-mail (off by default).",
)
@click.option(
    "--new-account-min-approved",
    type=int,
    help="Hold a new account's comments until this many were approved "
    "(0 to 100; default 2).",
)
@click.option(
    "--rejected-hold-ratio",
    type=float,
    help="Hold an account whose recent decided comments were rejected more "
    "than this share of the time (0 to 1; default 0.3).",
)
@click.option(
    "--sso-algorithm",
    type=click.Choice(sso.ALGORITHMS),
    help="How the site signs its tokens: HS256 with the secret of `sites "
    "sso-secret`, or RS256/ES256 with its private key (give the public key).",
)
@click.option(
    "--sso-public-key-file",
    type=click.File("r"),
    help="The site's public key (PEM), for RS256 or ES256.",
)
@with_appcontext
def sign_in_command(slug, sso_public_key_file, **options):
    """Change how the readers of the site SLUG sign in and how much their
    accounts are trusted; prints the settings in force."""
    site = _site(slug)
    changes = {k: v for k, v in options.items() if v is not None}
    if sso_public_key_file is not None:
        changes["sso_public_key"] = sso_public_key_file.read(100_000)
    try:
        if changes:
            update_sign_in(site, **changes)
    except ValidationFailed as error:
        fail(ValidationFailed({_OPTION.get(k, k): v for k, v in error.fields.items()}))
    settings = sign_in_settings(site.id, site.slug)
    click.echo(
        f"{slug}\tguests={settings.guests_allowed}"
        f"\tskip_captcha={settings.sso_skip_captcha}"
        f"\temail={settings.email_sign_in}"
        f"\tsso={'set' if settings.sso_secret else 'not set'}"
        f" ({settings.sso_algorithm})"
        f"\tnew_account_min_approved={settings.new_account_min_approved}"
        f"\trejected_hold_ratio={settings.rejected_hold_ratio:g}"
    )

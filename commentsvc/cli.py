"""``flask --app wsgi ...`` (or ``commentsvc ...``) commands: sites and the demo,
and the list of every command of the service."""

import secrets
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import accounts as reader_accounts
from . import sites as site_service
from .accounts.oidc_cli import oidc_command
from .accounts.sign_in_cli import sign_in_command, sso_secret_command
from .cli_errors import fail, stop
from .comments.cli import comments_cli, threads_cli
from .comments.errors import SiteNotFound, ValidationFailed
from .extensions import db
from .learning.cli import spam_cli
from .mail.cli import mail_cli
from .models import CaptchaProvider, Moderator, Role
from .moderation import accounts
from .moderation.accounts import create_moderator
from .moderation.cli import moderators_cli
from .portability.cli import commands as portability_commands
from .webhooks.cli import webhooks_cli

sites_cli = AppGroup("sites", help="Create, list and change sites.")
sites_cli.add_command(oidc_command)

DEMO_EMAIL = "demo@example.org"
PROVIDERS = click.Choice([p.value for p in CaptchaProvider])


# Providers that verify tokens with a provider's site key and secret.
_KEYLESS_PROVIDERS = (CaptchaProvider.NONE.value, CaptchaProvider.DEV.value)


def _site_options(command):
    options = [
        click.option("--captcha-provider", type=PROVIDERS),
        click.option("--captcha-site-key"),
        click.option(
            "--captcha-secret-stdin",
            is_flag=True,
            help="Read the captcha secret from standard input (kept out of the "
            "shell history and the process list).",
        ),
        click.option("--captcha-score-threshold", type=float),
        click.option("--require-email/--no-require-email", default=None),
        click.option("--max-length", type=int),
        click.option(
            "--spam-filter/--no-spam-filter",
            "spam_filter_enabled",
            default=None,
            help="The learning spam filter (on by default).",
        ),
        click.option(
            "--share-spam-signals/--no-share-spam-signals",
            default=None,
            help="Near-duplicates of spam decided on other sites that share "
            "them count here too (off by default).",
        ),
        click.option(
            "--spam-threshold",
            help="Spam probability at which a comment is stored as spam, or "
            "'auto' (the default: 0.6, or the floor the site's model learned "
            "if higher).",
        ),
        click.option(
            "--spam-hold-threshold",
            help="Spam probability at which a comment is held (looks like spam), "
            "or 'auto' (the default: 0.35; 0.5 while only the starter model judges).",
        ),
        click.option(
            "--reject-threshold",
            help="Probability at which a comment is likely to be rejected "
            "(0.05 to 1; default 0.7).",
        ),
        click.option(
            "--reject-hold-trusted/--no-reject-hold-trusted",
            default=None,
            help="Hold trusted authors' comments that are likely to be rejected.",
        ),
        click.option(
            "--reject-nudge/--no-reject-nudge",
            default=None,
            help="Ask readers to reconsider a comment likely to be rejected.",
        ),
        click.option(
            "--report-threshold",
            type=int,
            help="Reports from different readers that send a comment back to "
            "Pending (default 3).",
        ),
        click.option(
            "--edit-window",
            "edit_window_seconds",
            type=int,
            help="Seconds an author may edit or delete their comment (default "
            "300; 0: never).",
        ),
        click.option(
            "--default-sort",
            type=click.Choice(["oldest", "newest"]),
            help="The order readers see first (default oldest).",
        ),
        click.option(
            "--max-reply-depth",
            type=int,
            help="Reply levels shown nested, 1 to 8 (default 4).",
        ),
        click.option(
            "--close-after-days",
            help="Close each thread to new comments this many days after its "
            "first comment; 0 or 'off' never closes threads by age (the default).",
        ),
        click.option(
            "--mail-own-approval/--no-mail-own-approval",
            default=None,
            help="Mail subscribed readers when their own comment is approved "
            "(off by default; replies are always mailed).",
        ),
        click.option(
            "--post-rate-limit",
            help="Posts per client IP, e.g. '5/minute;30/hour' ('' for the default).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(**given) -> dict:
    settings = {k: v for k, v in given.items() if v is not None}
    if settings.pop("captcha_secret_stdin", False):
        settings["captcha_secret"] = sys.stdin.readline().strip()
    return settings


@sites_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--origin", "origins", multiple=True, help="An allowed origin (repeat).")
@_site_options
def create_site_command(slug, name, origins, **options):
    """Create the site SLUG."""
    settings = _settings(**options)
    _check_captcha_keys(settings)
    try:
        site = site_service.create_site(
            slug, name, allowed_origins=list(origins), **settings
        )
    except ValidationFailed as error:
        fail(error)
    click.echo(f"created site {site.slug}")


@sites_cli.command("update")
@click.argument("slug")
@click.option("--name")
@click.option("--origin", "origins", multiple=True, help="Replace the allowed origins.")
@click.option("--add-origin", multiple=True)
@click.option("--remove-origin", multiple=True)
@_site_options
def update_site_command(slug, name, origins, add_origin, remove_origin, **options):
    """Change the settings of the site SLUG."""
    changes = _settings(name=name, **options)
    existing = _existing_site(slug)
    _check_captcha_keys(changes, existing)
    try:
        if origins or add_origin or remove_origin:
            current = [] if origins else list(existing.allowed_origins or [])
            wanted = site_service.normalize_origins([*current, *origins, *add_origin])
            removed = site_service.normalize_origins(remove_origin)
            absent = [o for o in removed if o not in wanted]
            if absent:
                stop(
                    f"--remove-origin {absent[0]}: site {slug} has no such origin "
                    f"(its origins: {' '.join(wanted) or 'none'})"
                )
            changes["allowed_origins"] = [o for o in wanted if o not in removed]
        site = site_service.update_site(slug, **changes)
    except SiteNotFound:  # deleted meanwhile
        stop(f"there is no site {slug!r}")
    except ValidationFailed as error:
        fail(error)
    click.echo(f"updated site {site.slug}")


def _check_captcha_keys(settings: dict, existing=None) -> None:
    """Refuse a real captcha provider without its site key and secret: it could
    verify no token, and every post would wait as "misconfigured". Easy to miss
    when `--captcha-secret-stdin` reads an empty line (an unset
    `$RECAPTCHA_SECRET` in `<<< "$RECAPTCHA_SECRET"`)."""
    captcha = ("captcha_provider", "captcha_site_key", "captcha_secret")
    if not any(name in settings for name in captcha):
        return  # a site set up otherwise (the admin pages) keeps its captcha
    provider = settings.get("captcha_provider") or (
        existing.captcha_provider.value if existing else CaptchaProvider.NONE.value
    )
    if provider in _KEYLESS_PROVIDERS:
        return
    missing = []
    if not (settings.get("captcha_site_key") or "").strip() and not (
        existing and existing.captcha_site_key
    ):
        missing.append("--captcha-site-key KEY")
    given = settings.get("captcha_secret")
    if not (given or "").strip() and not (existing and existing.captcha_secret):
        missing.append(
            "--captcha-secret-stdin (it read an empty line)"
            if given is not None
            else "--captcha-secret-stdin with the secret on standard input"
        )
    if missing:
        stop(
            f"--captcha-provider {provider} needs {' and '.join(missing)}; "
            f"without keys, use --captcha-provider {' or '.join(_KEYLESS_PROVIDERS)}"
        )


def _existing_site(slug):
    for site in site_service.list_sites():
        if site.slug == slug:
            return site
    stop(f"there is no site {slug!r}")


@sites_cli.command("list")
def list_sites_command():
    """List the sites (secrets are never shown)."""
    sites = site_service.list_sites()
    if not sites:
        click.echo("none")
    for site in sites:
        secret = "set" if site.captcha_secret else "not set"
        click.echo(
            f"{site.slug}\t{site.name}\tcaptcha={site.captcha_provider.value}"
            f" (secret {secret})\trequire_email={site.require_email}"
            f"\tpost_rate_limit={site.post_rate_limit or 'default'}"
            f"\tclose_after_days={site.close_after_days or 'off'}"
            f"\torigins={' '.join(site.allowed_origins or []) or 'none'}"
        )


# Readers' sign-in (commentsvc/accounts/sign_in_cli.py).
sites_cli.add_command(sso_secret_command)
sites_cli.add_command(sign_in_command)


@click.command("demo-setup")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    default=[
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        # The demo article page (demo/serve.py) runs on the next port.
        "http://127.0.0.1:8001",
        "http://localhost:8001",
    ],
    help="An origin allowed to embed the demo site (repeat); replaces the old ones.",
)
@click.option(
    "--sso-secret",
    default=None,
    envvar="COMMENTSVC_DEMO_SSO_SECRET",
    help="The demo site's signing secret for its own accounts (demo/serve.py "
    "signs its subscriber page's token with it); also turns on e-mail sign-in.",
)
# The `flask` command pushes an app context for every command, but app.cli on its
# own (app.test_cli_runner(), an embedding tool) only does for AppGroup commands.
@with_appcontext
def demo_setup_command(origins, sso_secret):
    """Create (or refresh) the demo site and the demo admin; print the login."""
    settings = {
        "allowed_origins": list(origins),
        "captcha_provider": demo_captcha_provider(),
    }
    try:
        existing = [s for s in site_service.list_sites() if s.slug == "demo"]
        if existing:
            # A demo started on other ports (or without the dev captcha) before.
            # Origins added since (`sites update demo --add-origin`, as for a
            # page of count.js) stay: a restart must not drop them.
            given = site_service.normalize_origins(origins)
            kept = [o for o in existing[0].allowed_origins or [] if o not in given]
            settings["allowed_origins"] = [*given, *kept]
            site_service.update_site("demo", **settings)
        else:
            site_service.create_site("demo", "Demo News", **settings)
    except ValidationFailed as error:
        fail(error)
    if sso_secret:
        # Readers who sign in, in the demo: the article server's subscriber
        # page (the site's own accounts), and links by e-mail (printed by the
        # worker, as the demo's other mail).
        demo = site_service.site_settings("demo")
        reader_accounts.change_settings(
            demo.id, "demo", sso_secret=sso_secret, email_sign_in=True
        )
    password = secrets.token_urlsafe(12)
    moderator = db.session.scalar(
        db.select(Moderator).where(Moderator.username == "demo")
    )
    if moderator is None:
        # An address, so that the demo's mail (printed by the worker) reaches
        # the demo moderator.
        create_moderator("demo", password, role=Role.ADMIN, email=DEMO_EMAIL)
    else:
        if not moderator.email:
            moderator.email = DEMO_EMAIL
            db.session.commit()
        accounts.set_password(moderator, password)
    click.echo("demo site: demo")
    click.echo(f"demo moderator login: username 'demo', password '{password}'")


def demo_captcha_provider() -> str:
    if current_app.config["CAPTCHA_DEV_ENABLED"]:
        return CaptchaProvider.DEV.value
    return CaptchaProvider.NONE.value


def commands() -> list:
    """Every command of the service, for ``flask --app wsgi`` (through
    :func:`init_app`) and for the ``commentsvc`` command, which lists them
    without building the app (see commentsvc/console.py)."""
    return [
        sites_cli,
        moderators_cli,
        comments_cli,
        threads_cli,
        demo_setup_command,
        webhooks_cli,
        spam_cli,
        mail_cli,
        *portability_commands(comments_cli),
    ]


def init_app(app: Flask) -> None:
    for command in commands():
        app.cli.add_command(command)

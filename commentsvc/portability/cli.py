"""``flask --app wsgi import wordpress|disqus|commentsvc FILE --site SLUG``,
``flask --app wsgi export SITE [--out FILE]`` and ``flask --app wsgi comments
export-author|erase-author EMAIL``. See docs/import.md."""

import os
import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup, with_appcontext

from ..extensions import db
from ..models import Site
from ..sites import SLUG
from . import disqus, erasure, export, native, redact, wordpress
from .keys import MODES, BadKeyMap, ThreadKeys, read_key_map
from .writer import BATCH, ImportWriter
from .xmlstream import BadImportFile, Meter, file_size

import_cli = AppGroup("import", help="Import comments from another system's export.")


def _fail(message: str):
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _site(slug: str) -> Site:
    # A slug off the rule names no site (and PostgreSQL refuses a NUL byte).
    site = (
        db.session.scalar(sa.select(Site).where(Site.slug == slug))
        if SLUG.match(slug)
        else None
    )
    if site is None:
        _fail(f"there is no site {slug!r}")
    return site


def _common(command):
    options = [
        click.argument(
            "path", metavar="FILE", type=click.Path(exists=True, dir_okay=False)
        ),
        click.option("--site", "slug", required=True, help="The site to import into."),
        click.option(
            "--batch-size",
            type=click.IntRange(1, 100_000),
            default=BATCH,
            show_default=True,
            help="Comments per transaction.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _key_options(command):
    options = [
        click.option(
            "--key",
            "key_mode",
            type=click.Choice(MODES),
            default="path",
            show_default=True,
            help="Thread keys: the path of the page's URL (as the embed keys a "
            "page), the whole URL, or the source's id of the page.",
        ),
        click.option(
            "--key-map",
            type=click.Path(exists=True, dir_okay=False),
            help="A CSV file of url,key lines: these URLs get these keys.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _keys(mode: str, key_map: str | None) -> ThreadKeys:
    try:
        return ThreadKeys(mode, read_key_map(key_map) if key_map else None)
    except (BadKeyMap, OSError, UnicodeDecodeError) as error:
        click.echo(f"error: --key-map: {error}", err=True)
        sys.exit(1)


def _run(slug: str, path: str, items, meter: Meter, batch_size: int) -> None:
    """Store what *items* yields into the site, with a progress bar on stderr
    and the summary on stdout."""
    site = _site(slug)
    try:
        with click.progressbar(
            length=max(meter.total, 1), label=f"importing into {slug}", file=sys.stderr
        ) as bar:
            shown = 0

            def advance():
                nonlocal shown
                bar.update(meter.done - shown)
                shown = meter.done

            writer = ImportWriter(site, batch_size=batch_size, on_batch=advance)
            db.session.rollback()  # the writer has a connection of its own
            with writer:
                for item in items:
                    writer.feed(item)
                summary = writer.finish()
            advance()
    except BadImportFile as error:
        click.echo(f"error: {path}: {error}", err=True)
        sys.exit(1)
    for line in summary.lines():
        click.echo(line)


@import_cli.command("wordpress")
@_common
@_key_options
@click.option(
    "--keep-pingbacks",
    is_flag=True,
    help="Import pingbacks and trackbacks too (skipped by default).",
)
def import_wordpress_command(path, slug, batch_size, key_mode, key_map, keep_pingbacks):
    """Import a WordPress export (WXR) FILE into the site."""
    meter = Meter(file_size(path))
    items = wordpress.read(path, _keys(key_mode, key_map), keep_pingbacks, meter)
    _run(slug, path, items, meter, batch_size)


@import_cli.command("disqus")
@_common
@_key_options
def import_disqus_command(path, slug, batch_size, key_mode, key_map):
    """Import a Disqus export FILE into the site (the file is read twice)."""
    meter = Meter(2 * file_size(path))
    items = disqus.read(path, _keys(key_mode, key_map), meter)
    _run(slug, path, items, meter, batch_size)


@import_cli.command("commentsvc")
@_common
def import_commentsvc_command(path, slug, batch_size):
    """Import FILE, written by `export`, into the site (keys kept as they are)."""
    meter = Meter(file_size(path))
    _run(slug, path, native.read(path, meter), meter, batch_size)


def _output(out: str | None):
    """Standard output, or the file *out* readable by its owner only (0600,
    whatever the umask): an export holds readers' addresses and IPs."""
    if out is None or out == "-":
        return sys.stdout
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        _fail(f"cannot write {out}: {error.strerror}")
    try:
        os.fchmod(fd, 0o600)  # a file that was there keeps its mode otherwise
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, "w", encoding="utf-8")


def _email(email: str) -> str:
    """The address of a data request, or exit with an error line."""
    email = email.strip()
    if not email or not email.isprintable():
        _fail(f"not an email address: {email!r}")
    return email


@click.command("export")
@click.argument("slug", metavar="SITE")
@click.option("--out", help="The file to write (default: standard output).")
@with_appcontext
def export_command(slug, out):
    """Write the site's threads and comments (every status) as JSON."""
    site = _site(slug)
    stream = _output(out)
    try:
        counts = export.write_site(site, stream)
    finally:
        if out not in (None, "-"):
            stream.close()
    click.echo(
        f"exported {counts['threads']} threads, {counts['comments']} comments",
        err=True,
    )


@click.command("export-author")
@click.argument("email")
@click.option("--out", help="The file to write (default: standard output).")
@with_appcontext
def export_author_command(email, out):
    """Write every comment of EMAIL, on every site, as JSON (a data request)."""
    email = _email(email)
    stream = _output(out)
    try:
        found = export.write_author(email, stream)
    finally:
        if out not in (None, "-"):
            stream.close()
    click.echo(f"exported {found} comment{'s' if found != 1 else ''}", err=True)


@click.command("erase-author")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def erase_author_command(email, yes):
    """Erase the author's data from every comment of EMAIL: each stays in its
    thread as "[deleted]" (replies keep their place), audited; the mail of
    every site forgets the address (reply notifications, unsent mail); every
    other row that names it (bans, audit trail, reports, stored events) says
    "[erased]" instead, and an e-mail ban keeps working by a keyed hash."""
    email = _email(email)
    found, sites = erasure.count(email)
    addresses = erasure.mail_addresses(email)
    elsewhere = redact.rows_holding(email) + erasure.accounts_count(email)
    if not found and not addresses and not elsewhere:
        click.echo(f"no comments by {email}")
        return
    if found:
        question = (
            f"Erase {found} comment{'s' if found != 1 else ''} of {email} on "
            f"{sites} site{'s' if sites != 1 else ''}? This cannot be undone"
        )
    else:
        question = (
            f"Forget {email} (reply notifications on {addresses} sites, "
            f"{elsewhere} other rows that name it)?"
        )
    if not yes:
        click.confirm(question, abort=True)
    done = erasure.erase_author(email)
    click.echo(
        f"erased {done.comments} comment{'s' if done.comments != 1 else ''} of "
        f"{email} in {done.threads} threads on {done.sites} sites "
        f"(audited; {done.webhook_events} webhook events scrubbed; its address "
        f"forgotten by the mail of {done.mail_addresses} sites; {done.bans} "
        f"e-mail bans kept as a keyed hash; the address erased from "
        f"{done.redacted} other rows; {done.accounts} sign-in accounts deleted)"
    )


def commands(comments_cli) -> list:
    """The top-level commands of this module (``import``, ``export``); the
    reader's-data ones join *comments_cli*."""
    comments_cli.add_command(export_author_command)
    comments_cli.add_command(erase_author_command)
    return [import_cli, export_command]

"""The ``commentsvc`` command: the service's Flask CLI from any directory.

It is ``flask --app wsgi ...`` without needing the checkout as the current
directory: the same commands (sites, moderators, db, webhooks, mail, spam,
comments, threads, import, export, run, ...), with the settings read from an
environment file first. Its help lists every command even when the settings are
incomplete, because the app is only built when a command runs; a missing or bad
setting is then one line on stderr and exit status 2, never a traceback.

The environment file is ``$COMMENTSVC_ENV_FILE`` if set, else ``commentsvc.env``
in the current directory if there is one (the same file a systemd unit names in
``EnvironmentFile=``, see docs/production.md). Variables already set in the
environment win over the file's.
"""

import os
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup

ENV_FILE_VARIABLE = "COMMENTSVC_ENV_FILE"
DEFAULT_ENV_FILE = "commentsvc.env"
USAGE_ERROR = 2


class EnvFileError(ValueError):
    """Raised when the environment file cannot be read or has a line that is not
    ``NAME=value``."""


def read_env_file(path: Path) -> dict[str, str]:
    """The ``NAME=value`` pairs of *path*: blank lines and lines starting with
    ``#`` or ``;`` are skipped, a value may be in single or double quotes. This
    is the subset of systemd's ``EnvironmentFile=`` format both readers agree on.

    Raises:
        EnvFileError: the file cannot be read, or a line is not ``NAME=value``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise EnvFileError(f"cannot read {path}: {error}") from None
    values = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise EnvFileError(f"{path} line {number}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def env_file(environ=os.environ, cwd: Path | None = None) -> Path | None:
    """The environment file to read: ``$COMMENTSVC_ENV_FILE``, else
    ``commentsvc.env`` in *cwd* when it exists, else None.

    Raises:
        EnvFileError: COMMENTSVC_ENV_FILE names a file that does not exist.
    """
    named = environ.get(ENV_FILE_VARIABLE)
    if named:
        path = Path(named)
        if not path.is_file():
            raise EnvFileError(f"{ENV_FILE_VARIABLE} names {named}, which is no file")
        return path
    path = (cwd or Path.cwd()) / DEFAULT_ENV_FILE
    return path if path.is_file() else None


def load_env_file(environ=os.environ) -> Path | None:
    """Put the environment file's variables into *environ* (those not set
    there already); return the file read, if any.

    Raises:
        EnvFileError: the file is missing, unreadable or malformed.
    """
    path = env_file(environ)
    if path is not None:
        for name, value in read_env_file(path).items():
            environ.setdefault(name, value)
    return path


def _create_app():
    from . import create_app

    return create_app()


class CommentsvcGroup(FlaskGroup):
    """A FlaskGroup holding the service's commands itself, so that listing
    them (``--help``) never builds the app; each command builds it when it runs
    (they are app-context commands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return sorted(click.Group.list_commands(self, ctx))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load_plugin_commands()
        return click.Group.get_command(self, ctx, name)


def make_group() -> CommentsvcGroup:
    """The ``commentsvc`` command group, with every command of the service."""
    from flask_migrate.cli import db as db_cli

    from .cli import commands

    group = CommentsvcGroup(
        name="commentsvc",
        create_app=_create_app,
        load_dotenv=False,
        help="commentsvc's commands (the same as `flask --app wsgi ...`). "
        f"Settings come from the environment and from ${ENV_FILE_VARIABLE} or "
        f"./{DEFAULT_ENV_FILE}; see docs/configuration.md.",
    )
    # Flask's --app (the app is ours) and --env-file (python-dotenv's format,
    # not systemd's) would only mislead here.
    group.params = [p for p in group.params if p.name not in ("app", "env_file")]
    group.add_command(db_cli, name="db")
    for command in commands():
        group.add_command(command)
    return group


def _die(message: str):
    click.echo(f"commentsvc: {message}", err=True)
    sys.exit(USAGE_ERROR)


def main(argv: list[str] | None = None) -> None:
    """Run the ``commentsvc`` command; exits 2 with one line on stderr when
    the environment file or the configuration is wrong."""
    from .config import SecretKeyMissing
    from .envparse import ConfigError

    try:
        load_env_file()
    except EnvFileError as error:
        _die(str(error))
    try:
        make_group().main(args=argv, prog_name="commentsvc")
    except SecretKeyMissing:
        _die(
            "COMMENTSVC_SECRET_KEY is not set; put it in commentsvc.env or the "
            "environment (see docs/production.md)"
        )
    except ConfigError as error:
        _die(f"{error} (see docs/configuration.md)")


if __name__ == "__main__":
    main()

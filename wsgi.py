"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``.

(``gunicorn 'commentsvc:create_app()'`` and the ``commentsvc`` command work
from any directory; see docs/production.md.)
"""

import click
from flask.cli import NoAppException

from commentsvc import create_app
from commentsvc.envparse import ConfigError

try:
    app = create_app()
except ConfigError as error:
    if click.get_current_context(silent=True) is None:
        raise  # gunicorn: refuse to start, naming the setting
    # Under `flask --app wsgi ...`: Flask prints this as one line, where any
    # other exception is a traceback above a help that hides our commands.
    raise NoAppException(
        f"{error}. The service's commands need it: `commentsvc --help` lists "
        "them without it (see docs/production.md)."
    ) from None

"""How the commands report a mistake: one line on stderr naming what the user
typed (an option or argument, never a field of the service layer), exit 1."""

import sys

import click

from .comments.errors import ValidationFailed

# What the user typed for each field the service layer names in its errors
# (the rest are "--" + the field with dashes).
_TYPED = {
    "slug": "SLUG",
    "username": "USERNAME",
    "password": "the password",
    "allowed_origins": "--origin",
    "captcha_secret": "--captcha-secret-stdin",
    "edit_window_seconds": "--edit-window",
    "spam_filter_enabled": "--spam-filter",
    "sites": "--site",
}


def typed(field: str) -> str:
    return _TYPED.get(field, "--" + field.replace("_", "-"))


def fail(error: ValidationFailed) -> None:
    for field, message in error.fields.items():
        click.echo(f"error: {typed(field)}: {message}", err=True)
    sys.exit(1)


def stop(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)

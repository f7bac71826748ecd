"""Forms of the moderation UI; every POST carries a CSRF token."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(
        "Username", validators=[DataRequired("Enter your username."), Length(max=64)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )


class EmptyForm(FlaskForm):
    """A one-button POST (log out, approve…): only the CSRF token."""

"""Validation of a posted comment: one JSON object, allow-listed, then a form."""

import dataclasses
import json

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from ..comments.service import Submission
from ..errors import ApiError
from ..ids import MAX_ID
from ..inputrules import (
    email_problem,
    http_url_problem,
    name_problem,
    text_problem,
)
from ..inputrules import (
    # Its home is inputrules; the API's views import it from here.
    thread_key_problem as thread_key_problem,
)
from ..models import Site
from ..origins import origin_of_url

# Every field the API reads from a posted comment; anything else is ignored.
STRING_FIELDS = (
    "thread",
    "url",
    "title",
    "author",
    "email",
    "body",
    "captcha_token",
    "website",
    "form_token",
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PlainText:
    """Refuse text a database or a reader cannot take: control characters (other
    than newlines and tabs where *multiline*) and unpaired surrogates."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field):
        if field.data:
            problem = text_problem(field.data, self.multiline)
            if problem:
                raise StopValidation(problem)


def visible_name(form, field):
    """Refuse a name against the one rule for names (inputrules.name_problem)."""
    problem = name_problem(field.data or "")
    if problem:
        raise StopValidation(problem)


def mailto_safe(form, field):
    """Refuse an address against the one rule for addresses
    (inputrules.email_problem): not one, or one a mailto: link would misread."""
    problem = email_problem(field.data or "")
    if problem:
        raise StopValidation(problem)


def _on_origins(site: Site):
    """The page's URL must be on one of the site's allowed origins: a thread's
    first post fixes the URL every reader is sent back to."""
    allowed = set(site.allowed_origins)

    def check(form, field):
        if origin_of_url(field.data or "") not in allowed:
            raise ValidationError(
                "The page's URL must be on one of the site's own origins."
            )

    return check


def http_url(form, field):
    problem = http_url_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class CommentForm(FlaskForm):
    """A reader's comment. CSRF is off: the endpoint is cross-origin, and the
    Origin allow-list and the captcha guard it instead."""

    class Meta:
        csrf = False

    thread = StringField(
        validators=[
            PlainText(),
            DataRequired("Please give the page's thread key."),
            Length(max=512),
        ],
        filters=[_strip],
    )
    url = StringField(
        validators=[
            PlainText(),
            DataRequired("Please give the page's URL."),
            Length(max=2048),
            http_url,
        ],
        filters=[_strip],
    )
    title = StringField(
        validators=[PlainText(), Optional(), Length(max=300)], filters=[_strip]
    )
    parent_id = IntegerField(
        validators=[Optional(), NumberRange(min=1, max=MAX_ID)],
    )
    author = StringField(
        validators=[
            PlainText(),
            DataRequired("Please enter your name here"),
            Length(max=100),
            visible_name,
        ],
        filters=[_strip],
    )
    email = StringField(
        validators=[
            PlainText(),
            Optional(),
            Length(max=254),
            mailto_safe,
        ],
        filters=[_strip],
    )
    body = StringField(
        validators=[
            PlainText(multiline=True),
            DataRequired("Please enter your comment!"),
        ],
        filters=[_strip],
    )
    captcha_token = StringField(validators=[PlainText(), Optional(), Length(max=8192)])
    website = StringField(filters=[_strip])
    form_token = StringField(validators=[PlainText(), Optional(), Length(max=500)])
    notify = BooleanField()
    post_anyway = BooleanField()

    def __init__(self, site: Site, signed_in: bool = False, **kwargs):
        super().__init__(**kwargs)
        if site.allowed_origins:
            self.url.validators = [*self.url.validators, _on_origins(site)]
        self.body.validators = [
            *self.body.validators,
            Length(
                max=site.max_length,
                message=f"Please keep your comment under {site.max_length} characters.",
            ),
        ]
        # A signed-in reader is known: the address is what their provider gave.
        if site.require_email and not signed_in:
            self.email.validators = [
                PlainText(),
                DataRequired("Please enter your email address."),
                Length(max=254),
                mailto_safe,
            ]

    def submission(self) -> Submission:
        return Submission(
            thread=self.thread.data,
            url=self.url.data,
            title=self.title.data or None,
            parent_id=self.parent_id.data,
            author=self.author.data,
            # Stored lowercased: one author, one history, whatever the case.
            email=(self.email.data or "").lower() or None,
            body=self.body.data,
            captcha_token=self.captcha_token.data or None,
            honeypot=self.website.data or None,
            form_token=self.form_token.data or None,
            # Only with an address to confirm: ignored without one.
            notify=bool(self.notify.data and self.email.data),
            post_anyway=bool(self.post_anyway.data),
        )


def parse_json_object(raw: bytes) -> dict:
    """Decode a request body that must be one JSON object.

    Raises:
        ApiError: 400 ``malformed_json``.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(
            400, "malformed_json", "The request body is not valid JSON."
        ) from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The request body must be a JSON object.")
    return data


def _form_data(data: dict) -> tuple[MultiDict, dict[str, str]]:
    """Keep the allow-listed fields that have the right type; report the others."""
    values = MultiDict()
    errors = {}
    for name in STRING_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            values[name] = value
        else:
            errors[name] = "Must be a string."
    for name in ("notify", "post_anyway"):
        flag = data.get(name)
        if flag is None:
            continue
        if isinstance(flag, bool):
            values[name] = "1" if flag else ""
        else:
            errors[name] = "Must be true or false."
    parent = data.get("parent_id")
    if parent is not None:
        if isinstance(parent, int) and not isinstance(parent, bool):
            values["parent_id"] = str(parent)
        elif isinstance(parent, str) and parent.strip():
            values["parent_id"] = parent
        elif not (isinstance(parent, str)):
            errors["parent_id"] = "Must be a comment id."
    return values, errors


def validate_submission(site: Site, data: dict, reader=None) -> Submission:
    """Validate a posted comment for *site* (the JSON object of the request,
    see :func:`parse_json_object`). A signed-in *reader* (accounts.Reader)
    is its author: the name and address typed, if any, are ignored.

    Raises:
        ApiError: 422 ``validation_failed`` with a message per field.
    """
    values, type_errors = _form_data(data)
    if reader is not None:
        values["author"] = reader.name
        values["email"] = reader.email or ""
    form = CommentForm(site, signed_in=reader is not None, formdata=values)
    form.validate()
    errors = {name: messages[0] for name, messages in form.errors.items()}
    errors.update(type_errors)
    if errors:
        raise ApiError(
            422,
            "validation_failed",
            "Please correct the highlighted fields.",
            fields=errors,
        )
    submission = form.submission()
    if reader is not None:
        submission = dataclasses.replace(submission, reader=reader)
    return submission

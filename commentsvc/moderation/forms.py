"""Forms of the moderation UI; every POST carries a CSRF token."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)

# A list edited one entry per line: long lines scroll instead of wrapping, so
# an origin's port is never split across two lines.
ONE_PER_LINE = {"wrap": "off", "spellcheck": "false", "autocapitalize": "off"}


class Form(FlaskForm):
    """Every form of the UI: a field holding a NUL is an error on that field.
    PostgreSQL refuses a NUL in text, so one that reached the database (an
    email, a reason, a name) was a 500."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            values = field.data if isinstance(field.data, list) else [field.data]
            if any(isinstance(v, str) and "\x00" in v for v in values):
                field.errors = [*field.errors, "Contains a NUL character."]
                valid = False
        return valid


def refusal(form: FlaskForm) -> str:
    """Why *form* did not validate, as a flash message: its first field's
    error, else the CSRF token's (an expired form)."""
    for name, errors in form.errors.items():
        if name != "csrf_token" and errors:
            return f"{form[name].label.text}: {errors[0]}"
    return "The form expired; please try again."


class Submitted:
    """The field must be in the submitted form (it may be empty): a field left
    out would otherwise keep the object's value, of another type."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.raw_data:
            raise StopValidation(self.message)


class LoginForm(FlaskForm):  # not Form: a NUL in a name is a wrong login, counted
    username = StringField(
        "Username", validators=[DataRequired("Enter your username."), Length(max=64)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )


class EmptyForm(Form):
    """A one-button POST (log out, approve…): only the CSRF token."""


class DecisionForm(Form):
    """The queue page's one form: per-row buttons (``one``) or a bulk action on
    the ticked rows (``bulk`` + ``selected``). Each target is ``id:version``."""

    reason = StringField("Reason (optional)", validators=[Length(max=500)])


class BanForm(Form):
    kind = SelectField(
        "Ban",
        choices=[
            SelectChoice("email", "Email"),
            SelectChoice("ip", "IP address"),
            SelectChoice("network", "Network"),
        ],
    )
    until = DateField("Until (optional)", validators=[Optional()])
    reason = StringField("Reason (optional)", validators=[Length(max=500)])


class SiteSettingsForm(Form):
    """Site settings for admins; the captcha secret and Akismet key are
    write-only: left empty, they stay as they are."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    allowed_origins = TextAreaField(
        "Allowed origins (one per line)",
        validators=[Submitted("Enter the allowed origins, one per line.")],
        render_kw=ONE_PER_LINE,
    )
    captcha_provider = SelectField("Captcha provider")
    captcha_site_key = StringField("Captcha site key", validators=[Length(max=200)])
    captcha_secret = PasswordField(
        "Captcha secret (write-only)", validators=[Length(max=200)]
    )
    clear_captcha_secret = BooleanField("Remove the captcha secret")
    captcha_score_threshold = DecimalField(
        "Minimum captcha score (v3)", places=2, validators=[NumberRange(0, 1)]
    )
    post_rate_limit = StringField(
        "Post rate limit per IP (empty: the default)", validators=[Length(max=200)]
    )
    require_email = BooleanField("Require an email address")
    mail_own_approval = BooleanField(
        "Mail subscribed readers when their own comment is approved"
    )
    share_spam_signals = BooleanField(
        "Share spam signals with the other sites of this installation that share "
        "theirs (near-duplicates of spam decided there count here)"
    )
    moderation_policy = SelectField("Moderation policy")
    trusted_author_min_approved = IntegerField(
        "Approved comments that make an author trusted",
        validators=[NumberRange(1, 100000)],
    )
    max_length = IntegerField(
        "Longest comment (characters)", validators=[NumberRange(1, 100000)]
    )
    max_links = IntegerField(
        "Links allowed before a comment is held", validators=[NumberRange(0, 1000)]
    )
    blocked_words = TextAreaField(
        "Blocked words (spam; one per line)", render_kw=ONE_PER_LINE
    )
    watch_words = TextAreaField(
        "Watch words (held with a reason; one per line)", render_kw=ONE_PER_LINE
    )
    min_submit_seconds = IntegerField(
        "Fastest believable form fill (seconds)", validators=[NumberRange(0, 3600)]
    )
    akismet_key = PasswordField(
        "Akismet API key (write-only)", validators=[Length(max=200)]
    )
    clear_akismet_key = BooleanField("Turn Akismet off")
    close_after_days = StringField(
        "Close threads to new comments this many days after their first comment "
        "(empty or 0: never)",
        validators=[Length(max=10)],
    )
    spam_filter_enabled = BooleanField("Learning spam filter (learns from decisions)")
    spam_threshold = StringField(
        "Store as spam at probability (empty: automatic)",
        validators=[Length(max=20)],
    )
    spam_hold_threshold = StringField(
        "Hold as “looks like spam” at probability (empty: automatic)",
        validators=[Length(max=20)],
    )
    reject_threshold = StringField(
        "“Likely to be rejected” at probability (empty: 0.7)",
        validators=[Length(max=20)],
        # The site's number shown as text (sites.reject_threshold validates it).
        filters=[lambda value: "" if value is None else str(value)],
    )
    reject_hold_trusted = BooleanField(
        "Hold trusted authors' comments that are likely to be rejected"
    )
    reject_nudge = BooleanField(
        "Ask readers to reconsider a comment that is likely to be rejected"
    )
    report_threshold = IntegerField(
        "Reports (from different readers) that send a comment back to Pending",
        validators=[NumberRange(1, 1000)],
    )
    edit_window_seconds = IntegerField(
        "Seconds an author may edit or delete their comment (0: never)",
        validators=[NumberRange(0, 86400)],
    )
    default_sort = SelectField(
        "Comments shown",
        choices=[
            SelectChoice("oldest", "Oldest first"),
            SelectChoice("newest", "Newest first"),
        ],
    )
    max_reply_depth = IntegerField(
        "Reply levels shown nested (deeper replies join the last level)",
        validators=[NumberRange(1, 8)],
    )


class NewSiteForm(Form):
    slug = StringField("Slug", validators=[DataRequired(), Length(max=64)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    allowed_origins = TextAreaField(
        "Allowed origins (one per line)", render_kw=ONE_PER_LINE
    )


class NewModeratorForm(Form):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    email = StringField("Email", validators=[Optional(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    admin = BooleanField("Admin (every site; manages sites and moderators)")
    sites = SelectMultipleField("Sites")


class PasswordResetForm(Form):
    """An admin sets another moderator's password."""

    new_password = PasswordField(
        "New password",
        validators=[DataRequired("Enter the new password."), Length(max=1024)],
    )


class PasswordChangeForm(Form):
    """A moderator changes their own password."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=1024)],
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired("Enter the new password."), Length(max=1024)],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            DataRequired("Enter the new password again."),
            EqualTo("new_password", "The two new passwords differ."),
        ],
    )


class ModeratorSitesForm(Form):
    sites = SelectMultipleField("Sites")

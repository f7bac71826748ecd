"""Forms of the readers' side of the moderation UI: the site's sign-in
settings, actions on an account, a staff reply. Every POST carries CSRF."""

from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..accounts import moderation as rules
from ..accounts import sso
from ..accounts.configure import MAX_NEW_ACCOUNT_MIN_APPROVED
from .forms import Form


class SignInSettingsForm(Form):
    """How a site's readers sign in; the OIDC client secret is write-only."""

    guests_allowed = BooleanField("Guests may comment without signing in")
    sso_skip_captcha = BooleanField("Signed-in readers skip the captcha")
    email_sign_in = BooleanField("Readers may sign in with a link by e-mail")
    new_account_min_approved = IntegerField(
        "Hold a new account's comments until this many are approved",
        validators=[NumberRange(0, MAX_NEW_ACCOUNT_MIN_APPROVED)],
    )
    rejected_hold_ratio = DecimalField(
        "Hold an account again when more than this share of its recent "
        "comments were rejected (0 to 1)",
        places=2,
        validators=[NumberRange(0, 1)],
    )
    sso_algorithm = SelectField(
        "The site signs its tokens with",
        choices=[SelectChoice(a) for a in sso.ALGORITHMS],
    )
    sso_public_key = TextAreaField(
        "The site's public key (PEM; RS256 and ES256 only)",
        validators=[Length(max=10_000)],
    )
    oidc_issuer = StringField("OpenID Connect issuer URL", validators=[Length(max=500)])
    oidc_client_id = StringField("Client id", validators=[Length(max=200)])
    oidc_client_secret = PasswordField(
        "Client secret (write-only)", validators=[Length(max=500)]
    )
    clear_oidc_client_secret = BooleanField("Remove the client secret")
    oidc_label = StringField(
        "Button label (Sign in with …)", validators=[Length(max=60)]
    )


SPAN_CHOICES = [
    SelectChoice("1d", "1 day"),
    SelectChoice("7d", "7 days"),
    SelectChoice("30d", "30 days"),
    SelectChoice("date", "Until the date below"),
]


class SuspendForm(Form):
    span = SelectField("Suspend for", choices=SPAN_CHOICES)
    until = DateField("Until (with “Until the date below”)", validators=[Optional()])
    # Ids of their own: the account page shows the Suspend and Ban forms
    # together, and a label must name one control.
    reason = StringField(
        "Reason (the reader is shown it)",
        validators=[
            DataRequired("Say why: the reader is shown it."),
            Length(max=rules.MAX_REASON),
        ],
        id="suspend-reason",
    )


class BanAccountForm(Form):
    reason = StringField(
        "Reason (the reader is shown it)",
        validators=[
            DataRequired("Say why: the reader is shown it."),
            Length(max=rules.MAX_REASON),
        ],
        id="ban-reason",
    )


class ReasonForm(Form):
    """Lift a suspension, unban, staff on or off: a reason for the trail."""

    reason = StringField("Reason (optional)", validators=[Length(max=rules.MAX_REASON)])


class ReplyForm(Form):
    body = TextAreaField(
        "Your reply (published at once, with the Staff badge)",
        validators=[DataRequired("Write your reply."), Length(max=20_000)],
    )

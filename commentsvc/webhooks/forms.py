"""Forms of the webhook admin pages; every POST carries a CSRF token."""

from wtforms import SelectChoice, SelectField, SelectMultipleField, URLField, widgets
from wtforms.validators import DataRequired, Length

from ..moderation.forms import Form
from .endpoints import MAX_URL_LENGTH, SUBSCRIBABLE_EVENTS


class AddEndpointForm(Form):
    """A site, a URL and the events to send (none ticked: all of them)."""

    site = SelectField("Site", validators=[DataRequired("Choose a site.")])
    url = URLField(
        "URL",
        validators=[
            DataRequired("Enter the URL to send webhooks to."),
            Length(max=MAX_URL_LENGTH),
        ],
    )
    events = SelectMultipleField(
        "Events (none ticked: all)",
        choices=[SelectChoice(name, name) for name in SUBSCRIBABLE_EVENTS],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validate_choice=True,
    )

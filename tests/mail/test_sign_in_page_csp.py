"""The e-mail sign-in page's button answers with a redirect to the article's
origin: its Content-Security-Policy must allow that form target (browsers
check form-action on the redirect too), and no other."""

from .conftest import path_of
from .test_reader_sign_in import ask, email_app, sign_in_link  # noqa: F401, F811


def test_the_sign_in_page_lets_its_form_go_back_to_the_article_s_origin_only(
    email_app,  # noqa: F811 - the fixture imported above
    smtp,
):
    client = email_app.test_client()
    assert ask(client).status_code == 202
    url = sign_in_link(email_app, smtp)

    page = client.get(path_of(url))

    policy = page.headers["Content-Security-Policy"]
    assert "form-action 'self' https://news.example;" in policy
    # Other pages keep form-action to the service alone.
    other = client.get("/moderation/login")
    assert "form-action 'self';" in other.headers["Content-Security-Policy"]

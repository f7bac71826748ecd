"""``flask --app wsgi sites oidc SLUG ...``: a site's OpenID Connect provider
set, changed and turned off from the command line."""

import pytest
from factories import get_site, make_site
from timing import clear_of_a_minute_boundary

from commentsvc import accounts


@pytest.fixture
def site(app):
    with app.app_context():
        make_site()


@pytest.fixture
def invoke(runner):
    def invoke(*args, input=None):
        return runner.invoke(args=["sites", "oidc", *args], input=input)

    return invoke


def settings(app):
    with app.app_context():
        site = get_site()
        return accounts.sign_in_settings(site.id, site.slug)


GOOD = ("news", "--issuer", "https://id.example/realms/news", "--client-id", "cs")


def test_a_provider_is_set_with_its_secret_from_stdin(app, site, invoke):
    result = invoke(
        *GOOD, "--client-secret-stdin", "--label", "Example ID", input="xyz-secret\n"
    )

    assert result.exit_code == 0, result.output
    assert "redirect URI to register: <service URL>/auth/news/oidc/callback" in (
        result.output
    )
    assert "xyz-secret" not in result.output
    found = settings(app)
    assert (found.oidc_issuer, found.oidc_client_id) == (GOOD[2], "cs")
    assert (found.oidc_client_secret, found.oidc_label) == ("xyz-secret", "Example ID")


def test_the_redirect_uri_is_on_public_url(make_app):
    app = make_app(PUBLIC_URL="https://comments.example/")
    with app.app_context():
        make_site()
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["sites", "oidc", *GOOD, "--client-secret-stdin"], input="s3\n"
    )

    assert "https://comments.example/auth/news/oidc/callback" in result.output


def test_off_forgets_the_provider(app, site, invoke):
    invoke(*GOOD, "--client-secret-stdin", input="s3\n")

    result = invoke("news", "--off")

    assert result.exit_code == 0, result.output
    found = settings(app)
    assert (found.oidc_issuer, found.oidc_client_secret) == (None, None)


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (GOOD, None, "give --issuer URL, --client-id ID and --client-secret-stdin"),
        ((*GOOD, "--client-secret-stdin"), "\n", "read an empty line"),
        (
            ("news", "--issuer", "http://id.example", "--client-id", "c"),
            "s\n",
            "--issuer: the issuer must use https",
        ),
        (("news", "--off", "--label", "X"), None, "--off takes no other option"),
        (("nope", "--off"), None, "there is no site 'nope'"),
        (
            (*GOOD, "--label", "L" * 61),
            "s\n",
            "--label: at most 60 characters",
        ),
    ],
    ids=["no-secret", "empty-secret", "http", "off-and-more", "no-site", "label"],
)
def test_mistakes_are_named_and_nothing_changes(
    app, site, invoke, args, stdin, message
):
    if stdin is not None and "--client-secret-stdin" not in args:
        args = (*args, "--client-secret-stdin")

    result = invoke(*args, input=stdin)

    assert result.exit_code == 1
    assert message in result.output
    assert settings(app).oidc_issuer is None


def test_oidc_starts_are_rate_limited_per_network(make_app):
    """Each start asks the provider: one network may not make us hammer it."""
    app = make_app(RATELIMIT_SIGN_IN="3/minute")
    with app.app_context():
        make_site()
    client = app.test_client()
    start = "/auth/news/oidc/start?return=https://news.example/a"
    clear_of_a_minute_boundary()

    codes = [client.get(start).status_code for _ in range(4)]

    assert codes[-1] == 429
    assert 429 not in codes[:3]

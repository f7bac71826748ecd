"""Fixtures of the OpenID Connect sign-in tests: a local provider, the news
site readers come back to, and the site "news" signing in with one."""

import pytest
from oidc_provider import OidcProvider
from oidc_signin import ArticleSite, SignIn


@pytest.fixture
def provider():
    with OidcProvider() as provider:
        yield provider


@pytest.fixture
def article():
    with ArticleSite() as site:
        yield site


@pytest.fixture
def flow(app, live_server, provider, article):
    return SignIn(app, live_server, provider, article)

"""OpenID Connect sign-in refused, each way, with a page that says what failed
(never a 500): an ID token failing a check, a provider that is down or says
no, a banned account, a callback out of nowhere; and the rules for names,
addresses and issuers."""

import time

import pytest
import requests
import sqlalchemy as sa
from factories import get_site
from oidc_provider import other_key
from oidc_signin import accounts_of, assert_refused_page
from tcpproxy import free_port

from commentsvc import accounts
from commentsvc.accounts import oidc
from commentsvc.extensions import db
from commentsvc.models import Account, ReaderSession


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": ["another-client"]},
        {"aud": ["another-client"], "azp": "commentsvc"},
        {"iss": "https://impostor.example"},
        {"exp": int(time.time()) - 600, "iat": int(time.time()) - 1200},
        {"nonce": "not-ours"},
    ],
    ids=["wrong-audience", "wrong-audience-right-azp", "issuer", "expired", "nonce"],
)
def test_an_id_token_failing_a_check_is_refused(app, flow, claims, log_lines):
    flow.provider.id_token_claims = claims

    response = flow.sign_in(requests.Session())

    assert_refused_page(response, 403, "could not be verified", back_to=flow.article)
    assert accounts_of(app) == []
    assert any("id_token" in line["message"] for line in log_lines())


def test_an_id_token_signed_with_another_key_is_refused(app, flow):
    flow.provider.sign_with = other_key()

    response = flow.sign_in(requests.Session())

    assert_refused_page(response, 403, "could not be verified")
    assert accounts_of(app) == []


def test_a_reader_who_denies_consent_is_told(app, flow):
    response = flow.sign_in(requests.Session(), decision="deny")

    assert_refused_page(response, 403, "did not let you sign in", back_to=flow.article)
    assert accounts_of(app) == []


def test_a_provider_that_is_down_at_the_start_is_a_page_not_a_500(app, flow, log_lines):
    with app.app_context():
        flow.configure(get_site(), f"http://127.0.0.1:{free_port()}")

    response = flow.start(requests.Session())

    assert_refused_page(response, 502, "could not be reached", back_to=flow.article)
    assert any("discovery" in line["message"] for line in log_lines())


def test_a_provider_that_goes_down_before_the_callback_is_a_page(app, flow):
    session = requests.Session()
    callback = flow.callback_url(session)
    flow.provider.__exit__(None, None, None)

    response = session.get(callback, timeout=10)

    assert_refused_page(response, 502, "could not be reached", back_to=flow.article)
    assert accounts_of(app) == []


@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri"])
def test_a_token_endpoint_or_jwks_that_is_down_is_a_page(app, flow, endpoint):
    session = requests.Session()
    callback = flow.callback_url(session)
    flow.provider.metadata = {endpoint: f"http://127.0.0.1:{free_port()}/x"}

    response = session.get(callback, timeout=10)

    assert_refused_page(response, 502, "could not be reached", back_to=flow.article)
    assert accounts_of(app) == []


def test_a_token_endpoint_that_refuses_the_code_is_a_page(app, flow):
    session = requests.Session()
    callback = flow.callback_url(session)
    flow.provider.codes.clear()  # as if the code had expired there

    response = session.get(callback, timeout=10)

    assert_refused_page(response, 403, "did not let you sign in")
    assert accounts_of(app) == []


def test_a_provider_whose_discovery_names_another_issuer_is_refused(app, flow):
    with app.app_context():
        flow.configure(get_site(), flow.provider.issuer + "/")

    response = flow.start(requests.Session())

    assert_refused_page(response, 502, "could not be reached")


def test_a_banned_account_is_not_signed_in(app, flow):
    flow.sign_in(requests.Session())
    with app.app_context():
        account = db.session.scalars(sa.select(Account)).one()
        account.banned = True
        db.session.commit()

    response = flow.sign_in(requests.Session())

    assert_refused_page(response, 403, "may no longer comment", back_to=flow.article)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReaderSession.id))) == 1


def test_a_site_without_a_provider_or_no_site_says_so(app, flow):
    with app.app_context():
        site = get_site()
        accounts.change_settings(site.id, site.slug, oidc_issuer=None)

    response = flow.start(requests.Session())
    missing = requests.get(f"{flow.service.url}/auth/nope/oidc/start", timeout=10)

    assert_refused_page(response, 404, "does not offer", back_to=flow.article)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "query",
    ["", "?state=x", "?code=x&state=", "?error=access_denied", "?state=%ff%00"],
)
def test_a_callback_out_of_nowhere_is_a_page(flow, query):
    response = requests.get(flow.callback + query, timeout=10)

    assert_refused_page(response, 400, "was not started here")


@pytest.mark.parametrize(
    "claims, expected",
    [
        ({"name": "Ada", "email": "a@x.org"}, ("Ada", "a@x.org")),
        ({"preferred_username": "ada99", "email": "a@x.org"}, ("ada99", "a@x.org")),
        ({"email": "ada.l@x.org"}, ("ada.l", "ada.l@x.org")),
        ({"name": "Ada", "email": "a@x.org", "email_verified": False}, ("Ada", None)),
        (
            {"name": "Ada", "email": "a@x.org", "email_verified": True},
            ("Ada", "a@x.org"),
        ),  # noqa: E501
        ({"name": "  ", "email": "not an address"}, ("Reader", None)),
        ({"name": "Ada\u202eEvil", "preferred_username": "ada"}, ("ada", None)),
    ],
)
def test_the_account_s_name_and_address_come_from_the_claims(claims, expected):
    found = oidc.identity({"sub": "s-1", **claims})

    assert (found.name, found.email) == expected


def test_an_issuer_must_be_https_except_on_this_machine():
    assert oidc.issuer_problem("https://accounts.google.com") is None
    assert oidc.issuer_problem("http://localhost:8080/realms/news") is None
    assert oidc.issuer_problem("http://idp.example") == "the issuer must use https"
    assert oidc.issuer_problem("https://idp.example/?x=1")

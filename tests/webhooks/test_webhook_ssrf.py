"""SSRF: deliveries never reach loopback, private, link-local, CGNAT or other
special addresses, whether given literally, as a decimal number or behind a
host name that resolves to them, unless the development allow-list says so."""

import ipaddress

import pytest
import sqlalchemy as sa
from factories import make_comment, make_site

from commentsvc.comments.errors import ValidationFailed
from commentsvc.extensions import db
from commentsvc.models import WebhookAttempt
from commentsvc.webhooks import endpoints
from commentsvc.webhooks.delivery import (
    AddressPolicy,
    Sender,
    parse_allow_list,
    refusal_reason,
)

from .conftest import run_worker
from .receiver import Receiver


def refused_urls(port: int) -> list[str]:
    """The attacks: every one of them would reach a server of ours."""
    return [
        f"http://127.0.0.1:{port}/hooks/comments",
        f"http://[::1]:{port}/hooks/comments",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        f"http://2130706433:{port}/hooks/comments",  # 127.0.0.1 as a number
        f"http://0x7f000001:{port}/hooks/comments",
        f"http://127.1:{port}/hooks/comments",
        f"http://localhost:{port}/hooks/comments",  # a name resolving to loopback
        f"http://[::ffff:127.0.0.1]:{port}/hooks/comments",
        "http://100.64.0.1/hook",  # carrier-grade NAT
        "http://[fd00::1]/hook",
        "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of 169.254.169.254
        "http://0.0.0.0/hook",  # noqa: S104
    ]


@pytest.fixture
def production_app(make_app):
    """No allow-list: as in production."""
    return make_app(WEBHOOK_ALLOW_PRIVATE_NETWORKS="")


def test_refused_urls_are_never_connected_to():
    with Receiver() as receiver:
        sender = Sender(AddressPolicy(), timeout=2)
        try:
            outcomes = {
                url: sender.send(url, {}, "{}") for url in refused_urls(receiver.port)
            }
        finally:
            sender.close()
    assert receiver.requests() == []
    for url, outcome in outcomes.items():
        assert outcome.status_code is None, url
        assert outcome.error.startswith("refused: "), (url, outcome.error)
    localhost = next(o for u, o in outcomes.items() if "localhost" in u)
    assert "localhost resolves to 127.0.0.1, a loopback address" in localhost.error


@pytest.mark.parametrize("url", refused_urls(8080) + ["ftp://example.com/hook"])
def test_registering_a_refused_url_fails(production_app, url):
    with production_app.app_context():
        make_site()
        with pytest.raises(ValidationFailed) as refused:
            endpoints.add_endpoint("news", url)
    assert "url" in refused.value.fields


def test_a_decimal_address_is_refused_even_when_loopback_is_allowed():
    with Receiver() as receiver:
        policy = AddressPolicy(parse_allow_list("127.0.0.0/8"))
        sender = Sender(policy, timeout=2)
        try:
            refused = sender.send(f"http://2130706433:{receiver.port}/", {}, "{}")
            allowed = sender.send(receiver.url, {}, "{}")
        finally:
            sender.close()
    assert refused.error.startswith("refused: '2130706433' is neither")
    assert allowed.status_code == 200
    assert len(receiver.requests()) == 1


def test_the_allow_list_takes_host_names_too():
    with Receiver() as receiver:
        sender = Sender(AddressPolicy(parse_allow_list("localhost")), timeout=2)
        try:
            outcome = sender.send(f"http://localhost:{receiver.port}/x", {}, "{}")
            literal = sender.send(f"http://127.0.0.1:{receiver.port}/x", {}, "{}")
        finally:
            sender.close()
    assert outcome.status_code == 200
    assert literal.error.startswith("refused: 127.0.0.1 is a loopback address")


def test_the_worker_refuses_what_the_allow_list_no_longer_allows(
    make_app, production_app
):
    """Endpoints registered while private addresses were allowed (or whose DNS
    changed since) are refused at send time, by the address connected to."""
    with Receiver() as receiver:
        development = make_app(
            WEBHOOK_ALLOW_PRIVATE_NETWORKS="127.0.0.0/8 ::1 10.0.0.0/8 localhost"
        )
        with development.app_context():
            site = make_site()
            for url in (
                receiver.url,
                f"http://localhost:{receiver.port}/hooks/comments",
                f"http://[::1]:{receiver.port}/hooks/comments",
                "http://10.0.0.1/hook",
            ):
                endpoints.add_endpoint("news", url)
            make_comment(site)
        stats = run_worker(production_app)
    assert receiver.requests() == []
    assert stats.attempts == 4
    with production_app.app_context():
        errors = db.session.scalars(sa.select(WebhookAttempt.error)).all()
    assert all(e.startswith("refused: ") for e in errors), errors


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse
        ("198.18.0.1", "special-purpose"),
        ("192.0.0.8", "special-purpose"),
        ("240.0.0.1", "special-purpose"),
        ("255.255.255.255", "special-purpose"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "unique local"),
        ("ff02::1", "multicast"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:c0a8:101::1", "private"),  # 6to4 of 192.168.1.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "special-purpose"),  # Teredo
        ("2001:db8::1", "special-purpose"),
    ],
)
def test_special_addresses_are_refused(address, kind):
    reason = refusal_reason(ipaddress.ip_address(address))
    assert reason is not None and kind in reason


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"],
)
def test_public_addresses_are_allowed(address):
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("raw", ["10.0.0.0/33", "not a host!", "-bad.example"])
def test_a_bad_allow_list_is_refused(raw):
    with pytest.raises(ValueError):
        parse_allow_list(raw)

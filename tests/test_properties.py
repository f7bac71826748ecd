"""Properties of the client-IP bucketing that rate limits count by.

IPv4 addresses are their own bucket; an IPv6 address is bucketed by the /64
that holds it (one subscriber usually holds a whole /64); IPv4-mapped IPv6 is
the IPv4 address it maps. Hypothesis draws the addresses; the last test checks
the same through real requests against the real limiter in Redis.
"""

import ipaddress

import pytest
from factories import make_site
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from commentsvc.ratelimit import client_ip, ip_bucket

PROPERTY = settings(max_examples=300, deadline=None, database=None)

ipv4 = st.ip_addresses(v=4)
ipv6 = st.ip_addresses(v=6).filter(lambda a: a.ipv4_mapped is None)
prefixes64 = st.integers(min_value=0, max_value=2**64 - 1)
hosts64 = st.integers(min_value=0, max_value=2**64 - 1)


def v6(prefix: int, host: int) -> ipaddress.IPv6Address:
    """The address with *prefix* as its upper 64 bits and *host* as its lower."""
    return ipaddress.IPv6Address((prefix << 64) | host)


def spellings(address: ipaddress.IPv6Address) -> list[str]:
    """Ways a proxy or socket may write one IPv6 address."""
    return [
        str(address),
        address.exploded,
        address.exploded.upper(),
        str(address).upper(),
    ]


@PROPERTY
@given(ipv4)
def test_an_ipv4_address_is_its_own_bucket(address):
    assert client_ip(str(address)) == str(address)
    assert ip_bucket(client_ip(str(address))) == str(address)


@PROPERTY
@given(ipv6)
def test_an_ipv6_address_is_bucketed_by_the_64_that_contains_it(address):
    bucket = ip_bucket(client_ip(str(address)))

    network = ipaddress.IPv6Network(bucket)
    assert network.prefixlen == 64
    assert address in network
    assert network == ipaddress.IPv6Network((address, 64), strict=False)


@PROPERTY
@given(ipv6)
def test_every_spelling_of_an_ipv6_address_is_one_client_and_one_bucket(address):
    clients = {client_ip(s) for s in spellings(address)}
    buckets = {ip_bucket(c) for c in clients}

    assert clients == {str(address)}
    assert len(buckets) == 1


@PROPERTY
@given(ipv4)
def test_ipv4_mapped_ipv6_counts_as_the_ipv4_address(address):
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")

    for spelling in [f"::ffff:{address}", *spellings(mapped)]:
        assert client_ip(spelling) == str(address)
        assert ip_bucket(client_ip(spelling)) == str(address)
    # Also when the caller skipped client_ip().
    assert ip_bucket(str(mapped)) == str(address)


@PROPERTY
@given(prefixes64, hosts64, hosts64)
def test_two_addresses_in_one_64_share_a_bucket(prefix, host_a, host_b):
    a, b = v6(prefix, host_a), v6(prefix, host_b)
    assume(a.ipv4_mapped is None)

    assert ip_bucket(client_ip(str(a))) == ip_bucket(client_ip(str(b)))


@PROPERTY
@given(prefixes64, prefixes64, hosts64, hosts64)
def test_addresses_in_different_64s_never_share_a_bucket(pa, pb, host_a, host_b):
    assume(pa != pb)
    a, b = v6(pa, host_a), v6(pb, host_b)
    assume(a.ipv4_mapped is None and b.ipv4_mapped is None)

    assert ip_bucket(client_ip(str(a))) != ip_bucket(client_ip(str(b)))


@PROPERTY
@given(ipv4, ipv4)
def test_distinct_ipv4_addresses_never_share_a_bucket(a, b):
    assume(a != b)

    assert ip_bucket(client_ip(str(a))) != ip_bucket(client_ip(str(b)))


@PROPERTY
@given(ipv4, ipv6)
def test_an_ipv4_and_an_ipv6_client_never_share_a_bucket(a, b):
    assert ip_bucket(client_ip(str(a))) != ip_bucket(client_ip(str(b)))


@PROPERTY
@given(ipv6, st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True))
def test_a_zone_id_does_not_make_another_client(address, zone):
    assert client_ip(f"{address}%{zone}") == str(address)


# --- through the app: the real limiter, counting in Redis ---------------------------


@pytest.fixture
def backend(database_urls):
    """Overrides the parametrized fixture: the limiter counts in Redis, the same
    whatever the database."""
    return "sqlite" if "sqlite" in database_urls else next(iter(database_urls))


@pytest.fixture
def one_token_per_bucket(make_app):
    """Form tokens limited to one a minute per client bucket; and the /64s that
    examples have already spent (the counts last the minute, across examples)."""
    app = make_app(RATELIMIT_CAPTCHA="1/minute")
    with app.app_context():
        make_site()
    return app.test_client(), set()


def _form_token(client, address) -> int:
    return client.post(
        "/api/v1/sites/news/form-token", environ_base={"REMOTE_ADDR": str(address)}
    ).status_code


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(prefixes64, prefixes64, hosts64, hosts64, hosts64)
def test_the_limiter_counts_an_ipv6_64_as_one_client(
    one_token_per_bucket, pa, pb, host_1, host_2, host_3
):
    client, spent = one_token_per_bucket
    # Fresh /64s, away from ::/64 (which holds ::ffff:0:0/96, the mapped IPv4).
    assume(pa != pb and 0 not in (pa, pb) and not spent & {pa, pb})
    spent |= {pa, pb}
    first, neighbour, stranger = v6(pa, host_1), v6(pa, host_2), v6(pb, host_3)

    assert _form_token(client, first) == 200
    assert _form_token(client, neighbour) == 429
    assert _form_token(client, stranger) == 200

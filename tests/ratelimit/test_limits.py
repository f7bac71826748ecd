"""Per-IP limits counted in the real Redis: exact counts, the 429 envelope,
per-site limits, trusted proxies, IPv6 buckets and the captcha resend."""

import threading
import time

import pytest
import sqlalchemy as sa
from factories import comment_payload, make_site
from timing import clear_of_a_minute_boundary

from commentsvc import sites
from commentsvc.extensions import db
from commentsvc.models import Comment
from commentsvc.ratelimit import client_ip, ip_bucket

URL = "/api/v1/sites/news/comments"


def _post(client, ip="198.51.100.7", headers=None, **fields):
    return client.post(
        URL,
        json=comment_payload(**fields),
        headers=headers or {},
        environ_base={"REMOTE_ADDR": ip},
    )


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Comment))


@pytest.fixture
def limited(make_app):
    """An app whose default post limit is 3/minute, with the site 'news'."""
    app = make_app(RATELIMIT_POST="3/minute")
    with app.app_context():
        make_site()
    return app


def test_exactly_the_limit_is_admitted_then_429_with_envelope(limited):
    client = limited.test_client()
    statuses = [_post(client, body=f"Comment {n}").status_code for n in range(5)]
    assert statuses == [202, 202, 202, 429, 429]
    assert _count(limited) == 3

    refused = _post(client)
    assert refused.status_code == 429
    error = refused.json["error"]
    assert error["code"] == "rate_limited"
    assert 1 <= error["retry_after"] <= 61
    assert str(error["retry_after"]) in error["message"]
    assert refused.headers["Retry-After"] == str(error["retry_after"])
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) > 0
    assert _count(limited) == 3


def test_posts_to_unknown_sites_leave_no_state_per_slug(limited):
    """200 random slugs used to leave 600 Redis keys, some for a day: now they
    share one bucket per client, and that bucket is still limited."""
    import secrets

    import redis

    client = limited.test_client()
    slugs = [f"nosuch-{secrets.token_hex(6)}" for _ in range(40)]
    statuses = [
        client.post(
            f"/api/v1/sites/{slug}/comments",
            json=comment_payload(),
            environ_base={"REMOTE_ADDR": "198.51.100.99"},
        ).status_code
        for slug in slugs
    ]
    # One client's posts to nowhere share the default limit (3/minute).
    assert statuses[:3] == [404, 404, 404]
    assert set(statuses[3:]) == {429}
    server = redis.Redis.from_url(limited.config["REDIS_URL"])
    try:
        keys = [
            key.decode()
            for key in server.scan_iter(
                match=f"*{limited.config['REDIS_KEY_PREFIX']}*", count=1000
            )
        ]
    finally:
        server.close()
    assert not [key for key in keys if "nosuch-" in key], keys
    # One per window of the limit, at most, and the all-sites cap's one.
    assert len(keys) <= 4, keys


def test_accepted_posts_carry_no_rate_limit_headers(limited):
    # Computing "remaining" would cost every accepted post a Redis round trip;
    # a refusal says all a client needs.
    response = _post(limited.test_client())
    assert response.status_code == 202
    assert "X-RateLimit-Remaining" not in response.headers
    assert "Retry-After" not in response.headers


def test_other_clients_have_their_own_bucket(limited):
    client = limited.test_client()
    for _ in range(3):
        assert _post(client, ip="198.51.100.7").status_code == 202
    assert _post(client, ip="198.51.100.7").status_code == 429
    assert _post(client, ip="198.51.100.8").status_code == 202


def test_site_limit_overrides_the_default(limited):
    client = limited.test_client()
    with limited.app_context():
        sites.update_site("news", post_rate_limit="1/minute")
        make_site("other", "Other")
    assert _post(client).status_code == 202
    assert _post(client).status_code == 429
    # Posts are counted per site: the same reader may still post elsewhere, under
    # that site's (default) limit.
    other = client.post(
        "/api/v1/sites/other/comments",
        json=comment_payload(),
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert other.status_code == 202


def test_one_client_meets_one_cap_across_all_sites(make_app):
    """Spreading posts over the sites of an instance gains nothing past the
    all-sites cap, whatever a site's own limit; other clients are untouched."""
    app = make_app(RATELIMIT_POST="3/minute", RATELIMIT_POST_ALL_SITES="4/minute")
    with app.app_context():
        make_site("news", "News")
        make_site("blog", "Blog", post_rate_limit="50/minute")
        make_site("wiki", "Wiki")
    client = app.test_client()

    def post_to(slug, ip="198.51.100.7"):
        return client.post(
            f"/api/v1/sites/{slug}/comments",
            json=comment_payload(),
            environ_base={"REMOTE_ADDR": ip},
        )

    statuses = [post_to(slug).status_code for slug in ("news", "blog") * 2]
    assert statuses == [202, 202, 202, 202]
    refused = post_to("wiki")
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert post_to("blog").status_code == 429  # its own 50/minute lifts nothing
    assert post_to("wiki", ip="198.51.100.8").status_code == 202
    assert _count(app) == 5


def test_reads_are_limited_far_more_loosely_and_separately(make_app):
    app = make_app(RATELIMIT_POST="1/minute", RATELIMIT_READ="4/minute")
    with app.app_context():
        make_site()
    client = app.test_client()
    clear_of_a_minute_boundary()
    assert _post(client).status_code == 202
    assert _post(client).status_code == 429
    reads = [
        client.get(
            URL + "?thread=/article", environ_base={"REMOTE_ADDR": "198.51.100.7"}
        ).status_code
        for _ in range(5)
    ]
    assert reads == [200, 200, 200, 200, 429]
    # The listing is public and cacheable: no per-client headers in it.
    listing = client.get(
        URL + "?thread=/article", environ_base={"REMOTE_ADDR": "1.2.3.4"}
    )
    assert listing.status_code == 200
    assert "X-RateLimit-Remaining" not in listing.headers


def test_a_spoofed_x_forwarded_for_does_not_change_the_bucket(limited):
    client = limited.test_client()
    for n in range(3):
        spoof = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert _post(client, headers=spoof).status_code == 202
    assert _post(client, headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429
    with limited.app_context():
        ips = set(db.session.scalars(sa.select(Comment.ip)))
    assert ips == {"198.51.100.7"}


def test_trusted_proxy_hops_give_the_client_address(make_app):
    app = make_app(RATELIMIT_POST="2/minute", TRUSTED_PROXIES=1)
    with app.app_context():
        make_site()
    client = app.test_client()
    proxy = "10.0.0.5"
    # One trusted hop: only the address our proxy appended counts; whatever the
    # client put in front of it is ignored.
    for spoof in ["1.1.1.1", "2.2.2.2"]:
        headers = {"X-Forwarded-For": f"{spoof}, 203.0.113.50"}
        assert _post(client, ip=proxy, headers=headers).status_code == 202
    headers = {"X-Forwarded-For": "3.3.3.3, 203.0.113.50"}
    assert _post(client, ip=proxy, headers=headers).status_code == 429
    other = {"X-Forwarded-For": "203.0.113.51"}
    assert _post(client, ip=proxy, headers=other).status_code == 202
    with app.app_context():
        ips = set(db.session.scalars(sa.select(Comment.ip)))
    assert ips == {"203.0.113.50", "203.0.113.51"}


def test_ipv6_addresses_in_one_64_share_a_bucket(limited):
    client = limited.test_client()
    for n in range(3):
        assert _post(client, ip=f"2001:db8:1:2::{n + 1}").status_code == 202
    assert _post(client, ip="2001:db8:1:2:ffff:ffff:ffff:ffff").status_code == 429
    # The neighbouring /64 is another subscriber.
    assert _post(client, ip="2001:db8:1:3::1").status_code == 202


def test_the_ipv6_network_counted_is_configurable(make_app):
    app = make_app(RATELIMIT_POST="3/minute", RATELIMIT_IPV6_PREFIX=48)
    with app.app_context():
        make_site()
    client = app.test_client()
    # Three /64s of one /48: one subscriber of a provider that hands out /48s.
    for n in range(3):
        assert _post(client, ip=f"2001:db8:1:{n + 1}::1").status_code == 202
    assert _post(client, ip="2001:db8:1:ffff::1").status_code == 429
    assert _post(client, ip="2001:db8:2::1").status_code == 202


def test_ipv4_mapped_ipv6_counts_as_ipv4(limited):
    client = limited.test_client()
    assert _post(client, ip="::ffff:198.51.100.7").status_code == 202
    assert _post(client, ip="198.51.100.7").status_code == 202
    assert _post(client, ip="::ffff:c633:6407").status_code == 202
    assert _post(client, ip="198.51.100.7").status_code == 429
    with limited.app_context():
        ips = set(db.session.scalars(sa.select(Comment.ip)))
    assert ips == {"198.51.100.7"}


def test_a_captcha_expired_resend_is_not_refused_at_default_limits(make_app):
    # The real defaults (5/minute;30/hour;200/day), not the suite's raised ones.
    app = make_app(
        RATELIMIT_POST="5/minute;30/hour;200/day",
        CAPTCHA_DEV_ENABLED=True,
        CAPTCHA_DEV_TOKEN_LIFETIME=120,
    )
    with app.app_context():
        make_site(captcha_provider="dev")
    client = app.test_client()
    ip = {"REMOTE_ADDR": "198.51.100.9"}
    token_url = "/api/v1/sites/news/captcha/dev-token"
    # A busy reader: two comments already, the third's token spent elsewhere.
    for n in range(2):
        token = client.post(token_url, environ_base=ip).json["token"]
        assert (
            _post(
                client, ip="198.51.100.9", captcha_token=token, body=f"c{n}"
            ).status_code
            == 202
        )
    used = client.post(token_url, environ_base=ip).json["token"]
    assert (
        _post(client, ip="198.51.100.9", captcha_token=used, body="x").status_code
        == 202
    )
    first_try = _post(client, ip="198.51.100.9", captcha_token=used, body="mine")
    assert first_try.json["error"]["code"] == "captcha_expired"
    fresh = client.post(token_url, environ_base=ip).json["token"]
    resend = _post(client, ip="198.51.100.9", captcha_token=fresh, body="mine")
    assert resend.status_code == 202


@pytest.mark.parametrize(
    ("raw", "ip", "bucket"),
    [
        ("198.51.100.7", "198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7", "198.51.100.7"),
        ("2001:db8::1", "2001:db8::1", "2001:db8::/64"),
        ("2001:DB8:0:0:1::1", "2001:db8::1:0:0:1", "2001:db8::/64"),
        ("fe80::1%eth0", "fe80::1", "fe80::/64"),
        ("not-an-ip", "not-an-ip", "not-an-ip"),
    ],
)
def test_ip_normalisation_and_buckets(app, raw, ip, bucket):
    with app.test_request_context():
        assert client_ip(raw) == ip
        assert ip_bucket(client_ip(raw)) == bucket


def test_the_process_read_counter_windows():
    from limits import parse_many

    from commentsvc.ratelimit import ProcessCounter

    counter = ProcessCounter(parse_many("2/minute;3/hour"))
    assert counter.hit("a", now=60.0) is None
    assert counter.hit("a", now=61.0) is None
    assert counter.hit("a", now=62.0) == 59  # the minute window ends at 120
    assert counter.hit("b", now=62.0) is None  # another client
    assert counter.hit("a", now=120.0) is None  # a new minute
    retry = counter.hit("a", now=121.0)
    assert retry is not None and retry > 59  # now the hour refuses


class _YieldingBucket(str):
    """A client bucket whose hashing lets other threads run. CPython switches
    threads only at function calls and loop back-edges, none of which falls
    between the counter's read of a count and its write today; a bucket hashed
    in Python puts one there (as any later line of Python, or an interpreter
    without the GIL, would), so a count read outside the lock is overwritten."""

    def __hash__(self):
        time.sleep(0)  # let another thread run here
        return str.__hash__(self)


def test_the_process_read_counter_counts_exactly_under_concurrent_reads():
    """Threads serving reads at once share one counter: each hit is counted once,
    so exactly the limit is allowed however the threads interleave."""
    from limits import parse_many

    from commentsvc.ratelimit import ProcessCounter

    limit, threads, hits_each = 500, 8, 100
    counter = ProcessCounter(parse_many(f"{limit}/minute;{limit * 10}/hour"))
    bucket = _YieldingBucket("198.51.100.7")
    allowed = []
    start = threading.Barrier(threads)

    def read():
        start.wait()
        allowed.append(
            sum(counter.hit(bucket, now=60.0) is None for _ in range(hits_each))
        )

    workers = [threading.Thread(target=read) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sum(allowed) == limit
    assert counter.hit(bucket, now=60.0) is not None

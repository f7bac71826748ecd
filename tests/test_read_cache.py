"""The in-process cache of public reads: served from memory, invalidated at once
by decisions and settings, across processes through Redis pub/sub."""

import time

import sqlalchemy as sa
from factories import comment_payload, make_comment, make_site

from commentsvc import sites
from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Moderator, Role, Site
from commentsvc.moderation.accounts import create_moderator

LISTING = "/api/v1/sites/news/comments?thread=/article"


def _count(client) -> int:
    return client.get(LISTING).json["count"]


def _warm(app, client) -> None:
    """Read once and wait until the process listens for invalidations (it
    starts doing so on its first read, and forgets everything when it does)."""
    client.get(LISTING)
    assert app.extensions["commentsvc.read_cache"].subscribed.wait(5)


def _setup(app):
    with app.app_context():
        site = make_site()
        create_moderator("boss", "correct horse battery", role=Role.ADMIN)
        return make_comment(site, status=CommentStatus.PENDING).id


def _serving(app):
    """The site with a pending comment, and a warm client of *app*."""
    comment_id = _setup(app)
    client = app.test_client()
    _warm(app, client)
    return comment_id, client


def _approve(app, comment_id):
    with app.app_context():
        boss = db.session.scalar(
            sa.select(Moderator).where(Moderator.username == "boss")
        )
        comment = db.session.get(Comment, comment_id)
        moderate(boss, [Target(comment.id, comment.version)], CommentStatus.APPROVED)


def test_reads_are_served_from_memory_until_a_decision_invalidates(make_app):
    app = make_app(READ_CACHE_TTL=60)
    comment_id, client = _serving(app)
    assert _count(client) == 0
    # Behind the service's back: the cache keeps serving what it had.
    with app.app_context():
        db.session.execute(sa.update(Comment).values(status=CommentStatus.APPROVED))
        db.session.commit()
    assert _count(client) == 0
    with app.app_context():
        db.session.execute(sa.update(Comment).values(status=CommentStatus.PENDING))
        db.session.commit()
    # Through the service: invalidated at once.
    _approve(app, comment_id)
    assert _count(client) == 1


def test_a_decision_in_one_process_invalidates_the_others(make_app):
    reader = make_app(READ_CACHE_TTL=60)
    moderator_app = make_app(READ_CACHE_TTL=60)
    comment_id, client = _serving(reader)
    assert _count(client) == 0
    _approve(moderator_app, comment_id)
    deadline = time.monotonic() + 5
    while _count(client) != 1:
        assert time.monotonic() < deadline, "invalidation never arrived"
        time.sleep(0.05)


def test_site_settings_reach_cached_reads(make_app):
    app = make_app(READ_CACHE_TTL=60)
    _, client = _serving(app)
    assert client.get(LISTING).json["config"]["require_email"] is False
    with app.app_context():
        sites.update_site(
            "news", require_email=True, allowed_origins=["https://b.example"]
        )
    listing = client.get(LISTING)
    assert listing.json["config"]["require_email"] is True
    refused = client.get(LISTING, headers={"Origin": "https://news.example"})
    assert refused.status_code == 403


def test_entries_never_outlive_the_ttl(make_app):
    app = make_app(READ_CACHE_TTL=0.5)
    _, client = _serving(app)
    assert _count(client) == 0
    with app.app_context():
        db.session.execute(sa.update(Comment).values(status=CommentStatus.APPROVED))
        db.session.commit()
    time.sleep(0.6)
    assert _count(client) == 1


def test_a_read_that_began_before_an_invalidation_is_not_stored(make_app):
    app = make_app(READ_CACHE_TTL=60)
    with app.app_context():
        from commentsvc.comments.cache import read_cache

        cache = read_cache()
        generation = cache.generation
        cache.drop("news", "/article")  # a decision lands while the read runs
        cache.put(("listing", "news", "/article"), "stale", generation)
        assert cache.get(("listing", "news", "/article")) is None
        cache.put(("listing", "news", "/article"), "fresh", cache.generation)
        assert cache.get(("listing", "news", "/article")) == "fresh"


def test_an_unknown_site_is_not_cached_as_missing(make_app):
    app = make_app(READ_CACHE_TTL=60)
    client = app.test_client()
    assert client.get(LISTING).status_code == 404
    with app.app_context():
        make_site()
        assert db.session.scalar(sa.select(sa.func.count(Site.id))) == 1
    assert client.get(LISTING).status_code == 200


POST = "/api/v1/sites/news/comments"


def _post(client, origin="https://news.example", **fields):
    return client.post(POST, json=comment_payload(**fields), headers={"Origin": origin})


def test_posts_use_cached_site_settings_that_a_change_drops_at_once(make_app):
    app = make_app(READ_CACHE_TTL=60)
    _, client = _serving(app)
    assert _post(client, body="First.").status_code == 202
    # Behind the service's back: posts keep the settings they had.
    with app.app_context():
        db.session.execute(sa.update(Site).values(require_email=True))
        db.session.commit()
    assert _post(client, body="Second.", email=None).status_code == 202
    # Through the service: every post after the change sees it.
    with app.app_context():
        sites.update_site("news", allowed_origins=["https://b.example"])
    refused = _post(client, body="Third.")
    assert refused.status_code == 403
    accepted = _post(client, origin="https://b.example", body="Fourth.", email=None)
    assert accepted.status_code == 422  # require_email, read afresh with the rest
    assert accepted.json["error"]["fields"]["email"]


def test_a_settings_change_in_one_process_reaches_posts_in_the_others(make_app):
    poster = make_app(READ_CACHE_TTL=60)
    admin = make_app(READ_CACHE_TTL=60)
    _, client = _serving(poster)
    assert _post(client, body="Before.").status_code == 202
    with admin.app_context():
        sites.update_site("news", post_rate_limit="1/hour")
    _until(lambda n: _post(client, body=f"After {n}.").status_code == 429, "the limit")


def test_cached_site_settings_never_show_their_secrets(make_app):
    app = make_app(READ_CACHE_TTL=60)
    with app.app_context():
        make_site(captcha_secret="s3cret-value", akismet_key="k3y-value")
        sites.site_settings("news")
        # Listening for invalidations begins by forgetting everything.
        assert app.extensions["commentsvc.read_cache"].subscribed.wait(5)
        settings = sites.site_settings("news")
        assert settings.captcha_secret == "s3cret-value"
        assert "s3cret" not in repr(settings) and "k3y" not in repr(settings)
        assert sites.site_settings("news") is settings  # served from memory


def test_a_ban_in_one_process_reaches_posts_in_the_others_at_once(make_app):
    """Posts cache whether a site has bans at all; a ban (or its lifting) made
    anywhere drops that, so the very next post is judged by it."""
    from commentsvc.comments.bans import ban_from_comment, lift_ban
    from commentsvc.models import BanKind

    poster = make_app(READ_CACHE_TTL=60)
    admin = make_app(READ_CACHE_TTL=60)
    _, client = _serving(poster)

    def post(body):
        response = _post(client, body=body)  # from the test client's 127.0.0.1
        assert response.status_code == 202
        with poster.app_context():
            return db.session.get(Comment, response.json["id"])

    first = post("Before the ban.")
    assert first.status == CommentStatus.PENDING  # and "no bans" is cached
    assert post("Still no ban.").status == CommentStatus.PENDING
    with admin.app_context():
        boss = db.session.scalar(sa.select(Moderator))
        ban_id = ban_from_comment(
            boss, db.session.get(Comment, first.id), BanKind.IP
        ).id
    _until(lambda n: post(f"Banned {n}.").status == CommentStatus.SPAM, "the ban")
    with admin.app_context():
        lift_ban(db.session.scalar(sa.select(Moderator)), ban_id)
    _until(lambda n: post(f"Lifted {n}.").status == CommentStatus.PENDING, "lifting")


def _until(check, what: str) -> None:
    """Pub/sub carries the news to the other process within moments."""
    deadline = time.monotonic() + 5
    n = 0
    while not check(n):
        n += 1
        assert time.monotonic() < deadline, f"{what} never arrived"
        time.sleep(0.05)


def test_a_thread_made_by_a_post_that_failed_is_not_remembered(make_app, monkeypatch):
    """Posts cache the thread rows they find, never one their own transaction
    made: that one is gone when the transaction rolls back."""
    from sqlalchemy.exc import OperationalError

    from commentsvc.comments import service
    from commentsvc.models import Thread

    app = make_app(READ_CACHE_TTL=60)
    _, client = _serving(app)
    real = service.record_event

    def fail_once(*args, **kwargs):
        monkeypatch.setattr(service, "record_event", real)
        raise OperationalError("INSERT INTO webhook_events", {}, OSError("lost"))

    monkeypatch.setattr(service, "record_event", fail_once)
    thread = {"thread": "/new-story", "url": "https://news.example/new-story"}
    assert _post(client, body="Lost to the database.", **thread).status_code == 503
    for n in range(3):  # made, then found (and remembered), then remembered
        assert _post(client, body=f"Stored {n}.", **thread).status_code == 202
    with app.app_context():
        threads = db.session.scalars(
            sa.select(Thread.id).where(Thread.key == "/new-story")
        ).all()
        stored = db.session.scalars(
            sa.select(Comment.thread_id).where(Comment.body.like("Stored%"))
        ).all()
    assert len(threads) == 1 and stored == threads * 3


# --- bounded by bytes, in parts that cannot evict one another (issue 15) -------


def _cached(app, thread: str, cursor: str = "") -> bool:
    from commentsvc.comments.cache import listing_key

    cache = app.extensions["commentsvc.read_cache"]
    return cache.get(listing_key("news", thread, cursor)) is not None


def test_reads_of_unknown_threads_cannot_evict_a_real_listing(make_app):
    app = make_app(READ_CACHE_TTL=60, READ_CACHE_BYTES=256 * 1024)
    with app.app_context():
        make_comment(make_site(), body="A real comment")
    client = app.test_client()
    assert _count(client) == 1
    assert _cached(app, "/article")

    # An attacker reads thousands of thread keys nobody ever commented on.
    for n in range(2100):  # more than the 2,000 entries the cache once held
        assert client.get(LISTING + f"-{n}").json["count"] == 0

    assert _cached(app, "/article")
    usage = app.extensions["commentsvc.read_cache"].usage()
    assert usage["empty"][0] <= 256 * 1024 * 0.05


def test_walking_the_pages_of_a_huge_thread_keeps_other_first_pages(make_app):
    app = make_app(READ_CACHE_TTL=60, READ_CACHE_BYTES=400 * 1024, LISTING_PAGE_SIZE=2)
    with app.app_context():
        site = make_site(max_length=100_000)
        make_comment(site, thread="/front-page-story", body="Read by everyone")
        for n in range(40):
            make_comment(site, thread="/huge", body=f"{n} " + "x" * 4000)
    client = app.test_client()
    assert (
        client.get(LISTING.replace("/article", "/front-page-story")).status_code == 200
    )

    path, cursor, pages = LISTING.replace("/article", "/huge"), "", 0
    while True:
        page = client.get(path + (f"&cursor={cursor}" if cursor else "")).json
        pages += 1
        if not page["next"]:
            break
        cursor = page["next"]

    assert pages == 20
    assert _cached(app, "/front-page-story")
    usage = app.extensions["commentsvc.read_cache"].usage()
    assert usage["deep"][0] <= 400 * 1024 * 0.2
    assert usage["deep"][1] < 19  # the oldest later pages went first


def test_the_cache_holds_no_more_bytes_than_configured(make_app):
    budget = 300 * 1024
    app = make_app(READ_CACHE_TTL=60, READ_CACHE_BYTES=budget)
    with app.app_context():
        site = make_site(max_length=100_000)
        for n in range(40):
            make_comment(site, thread=f"/story-{n}", body="y" * 20_000)
    client = app.test_client()

    for n in range(40):
        assert client.get(LISTING.replace("/article", f"/story-{n}")).status_code == 200

    usage = app.extensions["commentsvc.read_cache"].usage()
    assert sum(used for used, _ in usage.values()) <= budget
    assert _cached(app, "/story-39")  # the most recent stay
    assert not _cached(app, "/story-0")

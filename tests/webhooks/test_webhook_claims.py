"""Claiming: however long one endpoint's backlog, a claim takes no more than half
a batch of it, and a worker full of it still reaches the other endpoints'
deliveries queued behind it (a claim reads only the first few due, never the
whole backlog)."""

from factories import make_comment, make_site

from commentsvc.webhooks.claims import CANDIDATES_PER_CLAIM, claim
from commentsvc.webhooks.settings import Settings

from .conftest import add_endpoint

BATCH = 10


def _backlog(app):
    """More of one endpoint's deliveries than a claim reads, then two of
    another site's endpoint: ``(busy id, other id)``."""
    with app.app_context():
        news = make_site("news")
        blog = make_site("blog", name="Example Blog")
    busy, _ = add_endpoint(app, "http://127.0.0.1:9/busy", site="news")
    other, _ = add_endpoint(app, "http://127.0.0.1:9/other", site="blog")
    with app.app_context():
        for _ in range(BATCH * CANDIDATES_PER_CLAIM + 5):
            make_comment(news)
        for _ in range(2):
            make_comment(blog)
    return busy, other


def _settings(app) -> Settings:
    return Settings.from_config(app.config, batch_size=BATCH, concurrency=4)


def test_a_claim_takes_at_most_half_a_batch_of_one_endpoint(app):
    busy, _ = _backlog(app)
    with app.app_context():
        settings = _settings(app)
        first = claim(settings)
        assert [job.endpoint_id for job in first] == [busy] * (BATCH // 2)
        # Holding three of them, the worker has room for two more.
        more = claim(settings, held={busy: 3})
        assert [job.endpoint_id for job in more] == [busy] * 2
        assert not {job.delivery_id for job in first} & {
            job.delivery_id for job in more
        }


def test_a_worker_full_of_one_endpoint_reaches_the_deliveries_behind_it(app):
    busy, other = _backlog(app)
    with app.app_context():
        jobs = claim(_settings(app), held={busy: BATCH // 2})
    assert [job.endpoint_id for job in jobs] == [other, other]

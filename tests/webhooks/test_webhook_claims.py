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


def test_a_claim_skips_deliveries_another_worker_is_claiming(app, backend):
    """Another worker's claim, not yet committed, holds the first deliveries:
    this claim takes the next ones instead of coming back empty (a worker run
    with --once then ended with the queue full)."""
    import sqlalchemy as sa

    from commentsvc.extensions import db
    from commentsvc.models import WebhookDelivery

    busy, _ = _backlog(app)
    with app.app_context():
        first_five = list(
            db.session.scalars(
                sa.select(WebhookDelivery.id)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(BATCH // 2)
            )
        )
        db.session.rollback()
        with db.engine.connect() as other_worker:
            transaction = other_worker.begin()
            if backend == "postgresql":
                other_worker.execute(
                    sa.select(WebhookDelivery.id)
                    .where(WebhookDelivery.id.in_(first_five))
                    .with_for_update()
                ).all()
            else:
                # SQLite has no row locks: the other worker's lease is in.
                other_worker.execute(
                    sa.update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_(first_five))
                    .values(locked_until=sa.func.datetime("now", "+1 hour"))
                )
                transaction.commit()
                transaction = other_worker.begin()
            try:
                jobs = claim(_settings(app))
            finally:
                transaction.rollback()

    assert len(jobs) == BATCH // 2
    assert not {job.delivery_id for job in jobs} & set(first_five)
    assert {job.endpoint_id for job in jobs} == {busy}

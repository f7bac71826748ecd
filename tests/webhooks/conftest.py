"""Fixtures for webhooks: an app that may reach the loopback receiver, the
receiver itself, endpoints, and running the worker in-process."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from crawl import csrf_from, log_in  # noqa: F401 - csrf_from is re-exported for the tests
from factories import make_site

from commentsvc.extensions import db
from commentsvc.models import Role, WebhookDelivery, utcnow
from commentsvc.moderation.accounts import create_moderator
from commentsvc.webhooks import endpoints
from commentsvc.webhooks.worker import Worker

from .receiver import Receiver

# The development allow-list: the receiver listens on 127.0.0.1.
LOOPBACK = "127.0.0.1/32"
PASSWORD = "correct horse battery"


@pytest.fixture
def app(make_app):
    """The app with loopback allowed, as in development."""
    return make_app(WEBHOOK_ALLOW_PRIVATE_NETWORKS=LOOPBACK)


@pytest.fixture
def site(app):
    with app.app_context():
        return make_site()


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


def add_endpoint(app, url, events=(), site="news"):
    """Register *url* (loopback allowed) and return ``(id, secret)``."""
    with app.app_context():
        endpoint, secret = endpoints.add_endpoint(site, url, events)
        return endpoint.id, secret


@pytest.fixture
def endpoint(app, site, receiver):
    """An endpoint of site 'news' at the receiver, which knows its secret."""
    endpoint_id, secret = add_endpoint(app, receiver.url)
    receiver.secrets.append(secret)
    return endpoint_id


def run_worker(app, **overrides):
    """``webhooks worker --once`` in-process: send what is due, return Stats."""
    with app.app_context():
        worker = Worker.from_app(app, **overrides)
        try:
            return worker.run_until_idle()
        finally:
            worker.close()


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        return list(
            db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id))
        )


def make_due(app, earlier: timedelta = timedelta(0)) -> None:
    """Move every pending delivery's next attempt to now: time passes."""
    with app.app_context():
        db.session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.status == "pending")
            .values(next_attempt_at=utcnow() - earlier)
        )
        db.session.commit()


def logged_in_client(app, username):
    """A client logged in through the login form (with its CSRF token)."""
    return log_in(app, username, PASSWORD)


@pytest.fixture
def people(app, site):
    """'boss' is an admin, 'mod' moderates the site 'news'."""
    with app.app_context():
        create_moderator("boss", PASSWORD, role=Role.ADMIN)
        create_moderator("mod", PASSWORD, site_slugs=["news"])

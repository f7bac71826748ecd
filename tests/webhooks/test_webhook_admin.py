"""The admins' webhook pages: endpoints per site, adding one (secret shown
once), the delivery log with Redeliver, and who may see them."""

import re

import pytest
import sqlalchemy as sa
from factories import make_comment

from commentsvc.extensions import db
from commentsvc.models import DeliveryStatus, WebhookEndpoint
from commentsvc.webhooks import endpoints

from .conftest import (
    add_endpoint,
    csrf_from,
    deliveries,
    logged_in_client,
    run_worker,
)
from .receiver import Answer, Receiver

PAGE = "/moderation/webhooks/"


@pytest.fixture
def admin(app, people):
    return logged_in_client(app, "boss")


def test_pages_need_an_admin(app, people, endpoint):
    anonymous = app.test_client()
    response = anonymous.get(PAGE)
    assert response.status_code == 302
    assert "/moderation/login" in response.headers["Location"]

    moderator = logged_in_client(app, "mod")
    assert moderator.get(PAGE).status_code == 403
    assert moderator.get(f"{PAGE}{endpoint}").status_code == 403
    # A moderator's own CSRF token does not help: still refused.
    landing = moderator.get("/moderation/login", follow_redirects=True)
    token = csrf_from(landing.get_data(as_text=True))
    response = moderator.post(PAGE, data={"csrf_token": token, "site": "news"})
    assert response.status_code == 403


def test_admin_adds_an_endpoint_and_sees_its_secret_once(app, admin, receiver):
    page = admin.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Example News" in html
    assert "No endpoints." in html
    # The moderation navigation links the page for admins.
    assert re.search(f'<a href="{PAGE}"[^>]*>Webhooks</a>', html)

    response = admin.post(
        PAGE,
        data={
            "csrf_token": csrf_from(html),
            "site": "news",
            "url": receiver.url,
            "events": ["comment.created", "comment.spam"],
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = re.search(r'id="webhook-secret">(whsec_[^<]+)<', response.get_data(True))
    with app.app_context():
        endpoint = db.session.scalar(sa.select(WebhookEndpoint))
        assert shown.group(1) == endpoint.secret
        assert endpoint.events == ["comment.created", "comment.spam"]

    listing = admin.get(PAGE).get_data(as_text=True)
    assert receiver.url in listing
    assert "comment.created, comment.spam" in listing
    assert "whsec_" not in listing
    assert "whsec_" not in admin.get(f"{PAGE}{endpoint.id}").get_data(as_text=True)


def test_adding_needs_csrf_and_a_url_the_guard_allows(app, admin):
    no_token = admin.post(PAGE, data={"site": "news", "url": "http://127.0.0.1/"})
    assert no_token.status_code == 400  # the CSRF check, before anything else
    token = csrf_from(admin.get(PAGE).get_data(as_text=True))
    refused = admin.post(
        PAGE, data={"csrf_token": token, "site": "news", "url": "http://10.0.0.1/x"}
    )
    assert refused.status_code == 422
    assert "10.0.0.1 is a private address" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 0


def test_the_delivery_log_and_redeliver(app, site, admin):
    answers = [Answer(500, body="database is down"), Answer(200, body="thanks")]
    with Receiver(answer=lambda n, _: answers[min(n, 1)]) as receiver:
        endpoint_id, secret = add_endpoint(app, receiver.url)
        receiver.secrets.append(secret)
        with app.app_context():
            make_comment(site)
        run_worker(app)

        page = admin.get(f"{PAGE}{endpoint_id}")
        html = page.get_data(as_text=True)
        [delivery] = deliveries(app)
        assert delivery.message_id in html
        assert "comment.created" in html
        assert 'class="status-code" data-label="Status code">500</td>' in html
        assert re.search(r'class="latency" data-label="Latency">\d+ ms</td>', html)
        assert "database is down" in html
        assert "Redeliver" in html

        # Redeliver without a token: refused, nothing changes.
        url = f"{PAGE}deliveries/{delivery.id}/redeliver"
        assert admin.post(url, data={}).status_code == 400
        response = admin.post(url, data={"csrf_token": csrf_from(html)})
        assert response.status_code == 302
        assert response.headers["Location"] == f"{PAGE}{endpoint_id}"
        [delivery] = deliveries(app)
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == 0
        run_worker(app)

        html = admin.get(f"{PAGE}{endpoint_id}").get_data(as_text=True)
        assert "queued again" in html
        assert 'class="status-code" data-label="Status code">200</td>' in html
        assert "thanks" in html
        assert "2 attempts" in html
    assert [r.message_id for r in receiver.requests()] == [delivery.message_id] * 2
    assert all(r.verified_with for r in receiver.requests())


def test_disabled_endpoints_are_flagged(app, admin, receiver):
    endpoint_id, _ = add_endpoint(app, receiver.url)
    with app.app_context():
        endpoints.disable(endpoint_id, "The endpoint answered 410 Gone.")
    listing = admin.get(PAGE).get_data(as_text=True)
    assert "Disabled</strong>: The endpoint answered 410 Gone." in listing
    page = admin.get(f"{PAGE}{endpoint_id}").get_data(as_text=True)
    assert 'role="alert"><strong>Disabled</strong>' in page

    response = admin.post(
        f"{PAGE}{endpoint_id}/enable", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 302
    assert "Disabled" not in admin.get(PAGE).get_data(as_text=True)


def test_ping_and_rotate_from_the_page(app, admin, receiver):
    endpoint_id, old = add_endpoint(app, receiver.url)
    page = admin.get(f"{PAGE}{endpoint_id}").get_data(as_text=True)
    token = csrf_from(page)

    rotated = admin.post(
        f"{PAGE}{endpoint_id}/rotate-secret", data={"csrf_token": token}
    )
    assert rotated.status_code == 200
    new = re.search(r'id="webhook-secret">(whsec_[^<]+)<', rotated.get_data(True))[1]
    assert new != old
    assert "previous secret keeps signing" in rotated.get_data(as_text=True)

    response = admin.post(f"{PAGE}{endpoint_id}/ping", data={"csrf_token": token})
    assert response.status_code == 302
    receiver.secrets.extend([old, new])
    run_worker(app)
    [ping] = receiver.requests()
    assert ping.payload["type"] == "ping"
    assert ping.verified_with == [old, new]


def test_unknown_endpoints_are_404(admin):
    assert admin.get(f"{PAGE}999999").status_code == 404

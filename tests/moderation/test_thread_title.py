"""A thread's title is not claimable by whoever posts first (issue 15, item 4).

Every post stores the title it offers; the page's title is the one offered by its
latest approved post. Shown where moderators and site owners see titles: the
queue and the webhook payloads. Everything goes through HTTP: posts through the
public API, decisions through the moderation UI, webhooks to a real receiver.
"""

import re

import pytest
from factories import ORIGIN, comment_payload, get_site, make_comment
from webhooks.receiver import Receiver

from commentsvc.webhooks import endpoints
from commentsvc.webhooks.worker import Worker

from .conftest import csrf_from, logged_in_client

API = "/api/v1/sites/news/comments"
PAGE = "/fresh-page"
COMMENT_CREATED = "comment.created"
BOGUS = "FREE CRYPTO at evil.example"
GENUINE = "Council approves the new bridge"


@pytest.fixture
def app(make_app):
    """The app with the loopback webhook receiver allowed, as in development."""
    return make_app(WEBHOOK_ALLOW_PRIVATE_NETWORKS="127.0.0.1/32")


@pytest.fixture
def receiver(app, two_sites):
    """A webhook receiver subscribed to every event of site 'news'."""
    with Receiver() as server:
        with app.app_context():
            _, secret = endpoints.add_endpoint("news", server.url, ())
        server.secrets.append(secret)
        yield server


def post(client, title, body, **fields):
    payload = comment_payload(
        thread=PAGE, url=f"{ORIGIN}{PAGE}", title=title, body=body, **fields
    )
    response = client.post(API, json=payload, headers={"Origin": ORIGIN})
    assert response.status_code == 202, response.json
    return response.json


def delivered(app, receiver) -> list[dict]:
    """Run the webhook worker once; the payloads the receiver got, in order."""
    with app.app_context():
        worker = Worker.from_app(app)
        try:
            worker.run_until_idle()
        finally:
            worker.close()
    return [r.payload for r in receiver.requests()]


def queue_html(mod, status="pending") -> str:
    response = mod.get(
        "/moderation/queue", query_string={"site": "news", "status": status}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def article_title(html: str, comment_id: int) -> str:
    """The text of the article link above a comment in the queue."""
    article = html[html.index(f'id="c{comment_id}"') :]
    return re.search(r'<p class="article">On <a [^>]*>([^<]*)</a>', article).group(1)


def decide(mod, action: str, comment_id: int, status="pending") -> None:
    """Take *action* on the comment from the queue of *status* it is in."""
    html = queue_html(mod, status)
    version = re.search(rf'value="{comment_id}:(\d+)"', html).group(1)
    target = f"{comment_id}:{version}"
    response = mod.post(
        "/moderation/decide",
        data={
            "csrf_token": csrf_from(html),
            "one": f"{action}:{target}",
            "next": "/moderation/queue",
        },
    )
    assert response.status_code == 302


def test_the_first_poster_cannot_title_a_page(app, client, receiver):
    mod = logged_in_client(app, "mod")

    attacker = post(client, BOGUS, "First! Nice page.")

    html = queue_html(mod)
    assert article_title(html, attacker["id"]) == PAGE  # the page's key, not BOGUS
    # The moderator still sees what the post offers.
    assert "this comment calls the page <q>FREE CRYPTO at evil.example</q>" in html
    [created] = delivered(app, receiver)
    assert created["type"] == COMMENT_CREATED
    assert created["data"]["thread"] == {
        "key": PAGE,
        "url": f"{ORIGIN}{PAGE}",
        "title": None,
    }


def test_an_approved_post_gives_the_page_its_title(app, client, receiver):
    mod = logged_in_client(app, "mod")
    attacker = post(client, BOGUS, "First! Nice page.")
    genuine = post(client, GENUINE, "A real comment on the bridge.")

    decide(mod, "approve", genuine["id"])

    html = queue_html(mod)
    assert article_title(html, attacker["id"]) == GENUINE
    [approved] = [e for e in delivered(app, receiver) if e["type"] != COMMENT_CREATED]
    assert approved["type"] == "comment.approved"
    assert approved["data"]["comment"]["id"] == genuine["id"]
    assert approved["data"]["thread"]["title"] == GENUINE
    # A later post is announced with the page's approved title, not its own.
    later = post(client, BOGUS, "Another comment.")
    [announced] = [
        e for e in delivered(app, receiver) if e["data"]["comment"]["id"] == later["id"]
    ]
    assert announced["data"]["thread"]["title"] == GENUINE


def test_the_latest_approved_post_wins_and_removal_gives_the_title_back(
    app, client, two_sites
):
    mod = logged_in_client(app, "mod")
    early = post(client, "Bridge plans", "Posted first.")
    late = post(client, GENUINE, "Posted second.")
    untitled = post(client, None, "Offers no title at all.")

    decide(mod, "approve", late["id"])
    # Approving an earlier post afterwards does not take the title back.
    decide(mod, "approve", early["id"])
    # Nor does a post that offers none erase it.
    decide(mod, "approve", untitled["id"])
    probe = post(client, BOGUS, "Held, to see the page's title in the queue.")
    assert article_title(queue_html(mod), probe["id"]) == GENUINE

    # Once the post whose title it was is gone, the next latest one's title.
    decide(mod, "delete", late["id"], "approved")
    assert article_title(queue_html(mod), probe["id"]) == "Bridge plans"
    decide(mod, "reject", early["id"], "approved")
    assert article_title(queue_html(mod), probe["id"]) == PAGE


def test_a_post_published_at_once_titles_the_page_and_a_held_one_does_not(
    app, client, two_sites
):
    """The trusted-author policy publishes without a moderator: such a post is
    the latest approved one. A trusted author's post held for a look is not."""
    with app.app_context():
        from commentsvc import sites

        sites.update_site(
            "news",
            moderation_policy="trust_approved_authors",
            trusted_author_min_approved=1,
            # Nothing else may hold the trusted post: a form token as the embed
            # fetches it (no wait for the time trap), and no learning filter.
            min_submit_seconds=0,
            spam_filter_enabled=False,
        )
        make_comment(get_site("news"), thread="/elsewhere", email="ann@example.org")
    mod = logged_in_client(app, "mod")

    token = client.post("/api/v1/sites/news/form-token", headers={"Origin": ORIGIN})
    published = post(
        client,
        GENUINE,
        "Trusted.",
        email="ann@example.org",
        form_token=token.json["token"],
    )
    assert published["status"] == "approved"
    stranger = post(client, BOGUS, "Not trusted.", email="eve@example.org")

    assert stranger["status"] == "pending"
    assert article_title(queue_html(mod), stranger["id"]) == GENUINE

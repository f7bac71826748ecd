"""The trust_approved_authors policy end to end: an author with N approved
comments under the same email is published at once, unless a rule held the
comment or made it spam; hold_all (the default) publishes nothing."""

import pytest
from factories import get_site, make_comment

from .conftest import (
    API,
    APPROVED,
    PENDING,
    PUBLISHED,
    SPAM,
    accepted,
    post,
    stored,
)

TRUSTED = "ann@example.org"


def _trusting_site(app, news, min_approved=1, approved=1, **settings):
    """A site that publishes authors with *min_approved* approved comments, and
    *approved* approved comments from TRUSTED (plus pending and spam ones, which
    never count)."""
    settings.setdefault("moderation_policy", "trust_approved_authors")
    news(trusted_author_min_approved=min_approved, **settings)
    with app.app_context():
        site = get_site("news")
        for _ in range(approved):
            make_comment(site, email=TRUSTED)
        make_comment(site, email=TRUSTED, status=PENDING)
        make_comment(site, email=TRUSTED, status=SPAM)


@pytest.mark.parametrize(("min_approved", "approved"), [(1, 1), (2, 3)])
def test_a_trusted_author_is_published_at_once(
    app, client, news, min_approved, approved
):
    _trusting_site(app, news, min_approved, approved)
    body = "Published straight away, as before."
    response = post(client, email="Ann@Example.org", body=body)
    assert response.status_code == 202
    comment_id = response.json["id"]
    assert response.json == {
        "id": comment_id,
        "status": "approved",
        "message": PUBLISHED,
        "edit_token": response.json["edit_token"],
        "edit_until": response.json["edit_until"],
    }
    comment = stored(app, comment_id)
    assert comment.status == APPROVED
    assert comment.signals == {"trusted_author": True}
    listing = client.get(API, query_string={"thread": "/article"}).json
    assert [c["html"] for c in listing["comments"] if c["id"] == comment_id] == [
        f"<p>{body}</p>"
    ]


@pytest.mark.parametrize(
    ("settings", "approved", "fields", "status", "signal"),
    [
        pytest.param(
            {"moderation_policy": "hold_all"}, 5, {}, PENDING, None, id="hold-all"
        ),
        pytest.param(
            {"min_approved": 2}, 1, {}, PENDING, None, id="fewer-approved-than-n"
        ),
        pytest.param(
            {}, 1, {"email": "someone@example.org"}, PENDING, None, id="other-email"
        ),
        pytest.param({}, 1, {"email": None}, PENDING, None, id="no-email"),
        pytest.param(
            {}, 1, {"form_token": None}, PENDING, "no_form_token", id="no-form-token"
        ),
        pytest.param(
            {},
            1,
            {"body": "http://a.example http://b.example http://c.example"},
            PENDING,
            "too_many_links",
            id="too-many-links",
        ),
        pytest.param(
            {"watch_words": "bitcoin"},
            1,
            {"body": "Bitcoin will win."},
            PENDING,
            "watch_words",
            id="watch-word",
        ),
        pytest.param(
            {"blocked_words": "casino"},
            1,
            {"body": "Online casino!"},
            SPAM,
            "blocked_words",
            id="blocked-word",
        ),
        pytest.param({}, 1, {"website": "x"}, SPAM, "honeypot", id="honeypot"),
        pytest.param(
            {}, 1, {"form_token": "forged"}, SPAM, "form_token_invalid", id="forged"
        ),
    ],
)
def test_a_trusted_author_is_not_published_when_a_rule_fired(
    app, client, news, settings, approved, fields, status, signal
):
    settings, fields = dict(settings), {"email": TRUSTED, **fields}
    min_approved = settings.pop("min_approved", 1)
    _trusting_site(app, news, min_approved, approved, **settings)
    comment = stored(app, accepted(post(client, **fields)))
    assert comment.status == status
    assert "trusted_author" not in comment.signals
    if signal is None:
        assert comment.signals == {}
    elif status == PENDING:
        assert signal in comment.signals["held"]
    else:
        assert signal in comment.signals
    assert client.get(API, query_string={"thread": "/article"}).json["count"] == (
        approved
    )

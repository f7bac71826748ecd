"""The content and sender rules end to end through the API: what is stored
(spam, or held with the reason), the signal that says why, and the same 202 for
the reader whatever the verdict. Spam is stored, never discarded: the Spam tab
shows it. The form token and the trusted-author policy have files of their own."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from captcha_standin import SECRET, CaptchaStandIn
from factories import get_site, make_site

from commentsvc.extensions import db
from commentsvc.models import Ban, BanKind, Comment, utcnow

from .conftest import (
    API,
    PENDING,
    SPAM,
    accepted,
    post,
    stored,
)


def _age(app, comment_id, hours) -> None:
    """Move a comment *hours* into the past."""
    with app.app_context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == comment_id)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )
        db.session.commit()


# -- honeypot ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("website", "status", "signals"),
    [
        ("https://cheap-watches.example", SPAM, {"honeypot": True}),
        ("   ", PENDING, {}),
    ],
    ids=["filled", "blank"],
)
def test_a_filled_honeypot_is_spam(app, client, news, website, status, signals):
    news()
    comment = stored(app, accepted(post(client, website=website)))
    assert comment.status == status
    assert comment.signals == signals


# -- links --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "author", "body", "held"),
    [
        pytest.param(
            {},
            "Ann",
            "Two sources: https://www.bbc.co.uk/news/1 and http://example.org/2",
            None,
            id="two-links-allowed",
        ),
        pytest.param(
            {},
            "Ann",
            "See https://a.example/1, www.b.example/2 and http://c.example/3.",
            3,
            id="three-links",
        ),
        pytest.param(
            {},
            "Ann http://ann.example",
            "Mine: https://www.a.example/1 and https://www.b.example/2",
            3,
            id="author-link-counts",
        ),
        pytest.param(
            {"max_links": 0},
            "Ann",
            "Just one: https://example.org/report",
            1,
            id="site-allows-none",
        ),
        pytest.param(
            {"max_links": 5},
            "Ann",
            "https://a.example https://b.example https://c.example",
            None,
            id="site-allows-five",
        ),
        pytest.param(
            {"max_links": 1},
            "Ann",
            "Cheap stuff at moneygq.com and example.co.uk/page",
            2,
            id="bare-domains-count",
        ),
        pytest.param(
            {"max_links": 0},
            "Ann",
            "Node.js 3.14 is out, e.g. on the U.S. mirror; write ann@example.org",
            None,
            id="not-links",
        ),
        pytest.param(
            {"max_links": 0},
            "moneygq.com",
            "Hello",
            1,
            id="bare-domain-in-the-name",
        ),
    ],
)
def test_more_links_than_the_site_allows_are_held(
    app, client, news, settings, author, body, held
):
    news(**settings)
    comment = stored(app, accepted(post(client, author=author, body=body)))
    assert comment.status == PENDING
    if held is None:
        assert comment.signals == {}
    else:
        assert comment.signals == {"held": {"too_many_links": held}}


def test_a_link_through_a_url_shortener_is_held(app, client, news):
    news(max_links=5)
    comment = stored(
        app,
        accepted(post(client, body="See https://bit.ly/3xYz and tinyurl.com/abc")),
    )
    assert comment.status == PENDING
    assert comment.signals == {"held": {"url_shortener": ["bit.ly", "tinyurl.com"]}}


# -- word lists ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "matched"),
    [
        ({"author": "Best CASINO Bonuses"}, ["casino"]),
        ({"email": "offers@Casino-Deals.example"}, ["casino"]),
        ({"body": "Order Cheap PILLS here, no prescription."}, ["cheap pills"]),
        ({"body": "Read https://casino.example/review now"}, ["casino"]),
        (
            {"author": "Casino Carl", "body": "cheap pills for everyone"},
            ["casino", "cheap pills"],
        ),
    ],
    ids=["author", "email", "body", "link", "two-words"],
)
def test_blocked_words_are_spam(app, client, news, fields, matched):
    # Stored as typed in the site settings: any case, one entry per line.
    news(blocked_words="Casino\n  cheap Pills  \n")
    comment = stored(app, accepted(post(client, **fields)))
    assert comment.status == SPAM
    assert comment.signals == {"blocked_words": matched}


def test_watch_words_hold_the_comment_with_the_words_matched(app, client, news):
    news(watch_words="bitcoin\nForex\npayday")
    comment = stored(
        app, accepted(post(client, body="I made a fortune with BITCOIN and forex!"))
    )
    assert comment.status == PENDING
    assert comment.signals == {"held": {"watch_words": ["bitcoin", "forex"]}}


@pytest.mark.parametrize(
    ("body", "matched"),
    [
        ("Our specialists say it is safe.", []),
        ("A socialist view of the budget.", []),
        ("The class was full.", []),
        ("Buy CIALIS now", ["cialis"]),
        ("cheap-cialis.example has it", ["cialis"]),
        ("All about cryptocurrency today", ["crypto*"]),
        ("Play at our online\n  casino", ["online casino"]),
        ("Cryptic clues", []),
    ],
)
def test_word_list_entries_match_whole_words_or_a_prefix(
    app, client, news, body, matched
):
    news(watch_words="cialis\nsocial\nass\ncrypto*\nonline casino")
    comment = stored(app, accepted(post(client, body=body)))
    assert comment.signals.get("held", {}).get("watch_words", []) == matched


def test_a_comment_without_listed_words_is_not_flagged(app, client, news):
    news(blocked_words="casino", watch_words="bitcoin")
    comment = stored(app, accepted(post(client, body="A fine piece of reporting.")))
    assert (comment.status, comment.signals) == (PENDING, {})


# -- repeated bodies ----------------------------------------------------------

BODY = "Check out my channel for more videos like this!"


@pytest.mark.parametrize(
    ("email", "ip", "duplicate"),
    [
        ("ANN@example.org", "203.0.113.9", True),  # same email (any case)
        ("bo@example.org", "198.51.100.10", True),  # same IP
        (None, "198.51.100.10", True),  # same IP, no email
        ("bo@example.org", "203.0.113.9", False),  # someone else
    ],
    ids=["same-email", "same-ip", "same-ip-no-email", "another-sender"],
)
def test_the_same_body_again_from_the_same_sender_is_spam(
    app, client, news, email, ip, duplicate
):
    news()
    first = accepted(post(client, body=BODY, email="ann@example.org"))
    comment = stored(app, accepted(post(client, body=BODY, email=email, ip=ip)))
    if duplicate:
        assert comment.status == SPAM
        assert comment.signals == {"duplicate": first}
    else:
        assert (comment.status, comment.signals) == (PENDING, {})


def test_the_same_body_after_24_hours_is_not_a_duplicate(app, client, news):
    news()
    first = accepted(post(client, body=BODY))
    _age(app, first, hours=24.5)
    comment = stored(app, accepted(post(client, body=BODY)))
    assert (comment.status, comment.signals) == (PENDING, {})


def test_the_same_body_on_three_threads_is_spam(app, client, news):
    news()
    senders = [
        ("ann@example.org", "198.51.100.1", "/a"),
        ("bo@example.org", "198.51.100.2", "/b"),
        ("cy@example.org", "198.51.100.3", "/c"),
    ]
    ids = [
        accepted(post(client, body=BODY, email=email, ip=ip, thread=thread))
        for email, ip, thread in senders
    ]
    first, second, third = (stored(app, i) for i in ids)
    assert (first.status, first.signals) == (PENDING, {})
    assert (second.status, second.signals) == (PENDING, {})
    assert third.status == SPAM
    assert third.signals == {"same_body_on_many_threads": 3}


@pytest.mark.parametrize("body", ["Thank you!", "Great article, well done."[:24]])
def test_short_thanks_under_many_stories_are_readers_not_spam(app, client, news, body):
    news()
    for n, thread in enumerate(["/a", "/b", "/c", "/d"]):
        comment = stored(
            app,
            accepted(
                post(
                    client,
                    body=body,
                    email=f"r{n}@example.org",
                    ip=f"198.51.100.{n + 1}",
                    thread=thread,
                )
            ),
        )
        assert comment.status == PENDING, comment.signals


def test_a_short_body_with_a_link_on_many_threads_is_still_spam(app, client, news):
    news()
    statuses = [
        stored(
            app,
            accepted(
                post(
                    client,
                    body="see https://x.example",
                    email=f"r{n}@example.org",
                    ip=f"198.51.100.{n + 1}",
                    thread=thread,
                )
            ),
        ).status
        for n, thread in enumerate(["/a", "/b", "/c"])
    ]
    assert statuses == [PENDING, PENDING, SPAM]


def test_the_same_body_twice_on_one_of_two_threads_is_not_many_threads(
    app, client, news
):
    news()
    for n, thread in enumerate(["/a", "/b", "/a"]):
        comment = stored(
            app,
            accepted(
                post(
                    client,
                    body=BODY,
                    email=f"reader{n}@example.org",
                    ip=f"198.51.100.{n + 1}",
                    thread=thread,
                )
            ),
        )
        assert (comment.status, comment.signals) == (PENDING, {})


def test_the_same_body_on_threads_a_day_ago_does_not_count(app, client, news):
    news()
    for n, thread in enumerate(["/a", "/b"]):
        old = accepted(
            post(
                client,
                body=BODY,
                email=f"reader{n}@example.org",
                ip=f"198.51.100.{n + 1}",
                thread=thread,
            )
        )
        _age(app, old, hours=25)
    comment = stored(app, accepted(post(client, body=BODY, thread="/c")))
    assert (comment.status, comment.signals) == (PENDING, {})


# -- bans ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "troll@example.org"),
        ("ip", "203.0.113.66"),
        ("network", "203.0.113.0/24"),
    ],
)
def test_a_banned_poster_is_spam(app, client, news, kind, value):
    news()
    with app.app_context():
        db.session.add(
            Ban(site_id=get_site("news").id, kind=BanKind(kind), value=value)
        )
        db.session.commit()
    comment = stored(
        app, accepted(post(client, email="Troll@Example.org", ip="203.0.113.66"))
    )
    assert comment.status == SPAM
    assert comment.signals == {"banned": {"kind": kind, "value": value}}
    others = stored(
        app, accepted(post(client, email="ann@example.org", ip="192.0.2.9"))
    )
    assert others.status == PENDING


# -- captcha score ------------------------------------------------------------


@pytest.mark.parametrize(("score", "status"), [(0.1, SPAM), (0.9, PENDING)])
def test_a_low_v3_score_is_spam(make_app, score, status):
    with CaptchaStandIn() as standin:
        app = make_app(**standin.config())
        with app.app_context():
            make_site(
                captcha_provider="recaptcha_v3",
                captcha_site_key="site-key",
                captcha_secret=SECRET,
            )
        token = standin.issue("recaptcha_v3", score=score)
        comment = stored(app, accepted(post(app.test_client(), captcha_token=token)))
    assert comment.status == status
    assert comment.signals["captcha"]["score"] == score
    if status == SPAM:
        assert comment.signals["captcha_low_score"] == score
    else:
        assert "captcha_low_score" not in comment.signals


# -- spam is kept -------------------------------------------------------------


def test_spam_is_stored_and_shown_in_the_spam_tab(app, client, news, admin_client):
    news()
    body = "Cheap watches, visit my shop today"
    comment_id = accepted(post(client, website="https://shop.example", body=body))

    spam_tab = admin_client.get("/moderation/queue", query_string={"status": "spam"})
    assert spam_tab.status_code == 200
    html = spam_tab.get_data(as_text=True)
    assert f'id="c{comment_id}"' in html
    assert body in html
    assert "A hidden field was filled in (robots fill it)" in html

    pending_tab = admin_client.get("/moderation/queue").get_data(as_text=True)
    assert f'id="c{comment_id}"' not in pending_tab
    # ...and readers never see it.
    assert client.get(API, query_string={"thread": "/article"}).json["count"] == 0

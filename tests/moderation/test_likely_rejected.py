"""What a site rejects, for moderators and admins: the queue card's "Likely to
be rejected" line with its words, the queue sorted by it (highest first,
unscored last, keyset pages), and the site settings with clear errors on the
settings page and on the command line."""

import sqlalchemy as sa
from factories import make_comment

from commentsvc.comments.queue import LIKELY_REJECTED, queue_page
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Moderator, Site

from .conftest import settings_form

SETTINGS = "/moderation/sites/news/settings"
# (body, probability or None for a comment scored before this model existed)
SCORED = [
    ("first, a little rude", 0.31),
    ("second, never scored", None),
    ("third, very rude", 0.82),
    ("fourth, polite", 0.02),
    ("fifth, rude too", 0.82),
]


def _news(app) -> Site:
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        db.session.expunge(site)
        return site


def _scored(app) -> dict[str, int]:
    ids = {}
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        for body, probability in SCORED:
            comment = make_comment(site, body=body, status=CommentStatus.PENDING)
            # Posted before the model existed: no score at all.
            comment.signals = {}
            if probability is not None:
                comment.signals = {
                    "likely_rejected": {
                        "probability": probability,
                        "model": "starter",
                        "pushed": [["rude", 1.234]],
                    }
                }
            db.session.commit()
            ids[body] = comment.id
    return ids


def _bodies_in_order(html: str) -> list[str]:
    return sorted(
        (body for body, _ in SCORED if body in html), key=lambda b: html.index(b)
    )


def test_the_card_shows_the_score_and_the_words_that_pushed_it(app, mod_client):
    _scored(app)
    page = mod_client.get("/moderation/queue").get_data(as_text=True)
    assert "Likely to be rejected: <strong>82 %</strong>" in page
    assert (
        'Pushed towards rejection by:\n    <q class="feature">rude</q> (+1.23)' in page
    )
    assert "the starter word lists (nothing learned from this site yet)" in page
    # At or above the site's threshold (0.7), the line is marked.
    assert page.count('class="likely-rejected likely"') == 2


def test_the_queue_sorts_by_likely_rejected_highest_first_unscored_last(
    app, mod_client
):
    _scored(app)
    page = mod_client.get("/moderation/queue?sort=likely_rejected").get_data(
        as_text=True
    )
    assert _bodies_in_order(page) == [
        "fifth, rude too",  # ties: newest first
        "third, very rude",
        "first, a little rude",
        "fourth, polite",
        "second, never scored",
    ]
    assert '<option value="likely_rejected" selected>' in page
    # The default order is the tab's own; an unknown order is the default.
    assert (
        _bodies_in_order(mod_client.get("/moderation/queue").get_data(as_text=True))[0]
        == "first, a little rude"
    )
    odd = mod_client.get("/moderation/queue?sort=nonsense")
    assert odd.status_code == 200
    assert _bodies_in_order(odd.get_data(as_text=True))[0] == "first, a little rude"


def test_sorted_pages_follow_each_other_by_keyset(app, mod_client):
    _scored(app)
    with app.app_context():
        mod = db.session.scalar(sa.select(Moderator).where(Moderator.username == "mod"))
        seen, cursor = [], None
        for _ in range(5):
            page = queue_page(
                mod, CommentStatus.PENDING, cursor=cursor, limit=2, sort=LIKELY_REJECTED
            )
            seen += [c.body for c in page.comments]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == [
        "fifth, rude too",
        "third, very rude",
        "first, a little rude",
        "fourth, polite",
        "second, never scored",
    ]
    # The next-page link keeps the order.
    html = mod_client.get("/moderation/queue?sort=likely_rejected").get_data(
        as_text=True
    )
    assert "sort=likely_rejected" in html
    # A cursor of the other order is refused with a message, not a 500.
    with app.app_context():
        first = db.session.scalar(sa.select(Comment).order_by(Comment.id).limit(1))
        from commentsvc.comments.queue import encode_cursor

        time_cursor = encode_cursor(first)
    refused = mod_client.get(
        "/moderation/queue",
        query_string={"sort": "likely_rejected", "after": time_cursor},
    )
    assert refused.status_code == 422
    assert "That page link is not valid" in refused.get_data(as_text=True)


def test_the_settings_page_keeps_and_explains_the_reject_settings(app, admin_client):
    page = admin_client.get(SETTINGS).get_data(as_text=True)
    assert "What the site rejects" in page
    for bad in ("abc", "1.5", "0", "nan"):
        response = settings_form(admin_client, reject_threshold=bad)
        assert response.status_code == 422, bad
        text = response.get_data(as_text=True)
        assert "A probability from 0.05 to 1 (like 0.7), or empty for 0.7." in text
    assert _news(app).reject_threshold == 0.7

    response = settings_form(
        admin_client, reject_threshold="0.8", reject_hold_trusted="y", reject_nudge="y"
    )
    assert response.status_code == 302
    site = _news(app)
    assert (site.reject_threshold, site.reject_hold_trusted, site.reject_nudge) == (
        0.8,
        True,
        True,
    )
    # Empty is the default again; unticked boxes turn the settings off.
    assert settings_form(admin_client, reject_threshold="").status_code == 302
    site = _news(app)
    assert (site.reject_threshold, site.reject_hold_trusted, site.reject_nudge) == (
        0.7,
        False,
        False,
    )


def test_the_command_line_changes_the_reject_settings(app, two_sites, runner):
    bad = runner.invoke(args=["sites", "update", "news", "--reject-threshold", "2"])
    assert bad.exit_code != 0
    assert "A probability from 0.05 to 1" in bad.output
    good = runner.invoke(
        args=[
            "sites",
            "update",
            "news",
            "--reject-threshold",
            "0.85",
            "--reject-nudge",
            "--reject-hold-trusted",
        ]
    )
    assert good.exit_code == 0, good.output
    site = _news(app)
    assert (site.reject_threshold, site.reject_nudge, site.reject_hold_trusted) == (
        0.85,
        True,
        True,
    )

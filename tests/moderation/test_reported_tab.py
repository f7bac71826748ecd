"""The Reported tab: reasons, explanations and counts; dismissing reports; a
moderator's decision settles them."""

import sqlalchemy as sa
from factories import make_comment

from commentsvc.comments.reports import ReaderReport, file_report
from commentsvc.extensions import db
from commentsvc.models import Comment, CommentReport, CommentStatus, Site

from .conftest import csrf_from


def _reported(app, threshold=3, reports=2):
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        site.report_threshold = threshold
        db.session.commit()
        comment = make_comment(site, author="Ann", body="A rude remark")
        for n in range(reports):
            reason = ("abuse", "illegal")[n % 2]
            explanation = "Defamation of a named person." if n % 2 else None
            file_report(
                site, comment.id, ReaderReport(reason, explanation), f"192.0.2.{n}"
            )
        return comment.id


def _open(app, comment_id):
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).where(
                CommentReport.comment_id == comment_id,
                CommentReport.resolved_at.is_(None),
            )
        )


def test_reported_tab_shows_reasons_and_dismissing_keeps_the_comment(app, mod_client):
    comment_id = _reported(app)
    page = mod_client.get("/moderation/queue?status=reported").get_data(as_text=True)
    assert "A rude remark" in page
    assert "2 open reports" in page
    assert "Abuse or harassment (1)" in page and "Illegal content (1)" in page
    assert "Defamation of a named person." in page
    assert "Dismiss reports" in page
    # The tab says how many comments have open reports, on every tab.
    pending_tab = mod_client.get("/moderation/queue").get_data(as_text=True)
    assert 'Reported <span class="count">1</span>' in pending_tab

    response = mod_client.post(
        f"/moderation/comments/{comment_id}/dismiss-reports",
        data={"csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302
    assert _open(app, comment_id) == 0
    page = mod_client.get("/moderation/queue?status=reported").get_data(as_text=True)
    assert "A rude remark" not in page
    assert 'Reported <span class="count">' not in page
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == CommentStatus.APPROVED


def test_a_held_comment_returns_when_a_moderator_approves_it(app, mod_client):
    comment_id = _reported(app, threshold=2)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status == CommentStatus.PENDING
        version = comment.version
    page = mod_client.get("/moderation/queue?status=reported").get_data(as_text=True)
    response = mod_client.post(
        "/moderation/decide",
        data={
            "csrf_token": csrf_from(page),
            "one": f"approve:{comment_id}:{version}",
            "next": "/moderation/queue?status=reported",
        },
    )
    assert response.status_code == 302
    assert _open(app, comment_id) == 0
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == CommentStatus.APPROVED
    page = mod_client.get("/moderation/queue?status=reported").get_data(as_text=True)
    assert "Nothing here." in page


def test_another_sites_moderator_cannot_dismiss(app, two_sites):
    from .conftest import logged_in_client

    comment_id = _reported(app)
    blogger = logged_in_client(app, "blogger")
    page = blogger.get("/moderation/queue?status=reported").get_data(as_text=True)
    assert "A rude remark" not in page
    response = blogger.post(
        f"/moderation/comments/{comment_id}/dismiss-reports",
        data={"csrf_token": csrf_from(page)},
    )
    assert response.status_code == 403
    assert _open(app, comment_id) == 2


def test_ids_past_the_column_and_a_nul_in_a_filter_are_no_500(app, mod_client):
    # An id past the integer column answered 500 (OverflowError on SQLite,
    # NumericValueOutOfRange on PostgreSQL), and so did a NUL byte in the
    # Reported tab's site filter on PostgreSQL.
    comment_id = _reported(app)
    token = csrf_from(mod_client.get("/moderation/queue").get_data(as_text=True))
    big = 2**63

    dismissed = mod_client.post(
        f"/moderation/comments/{big}/dismiss-reports", data={"csrf_token": token}
    )
    reopened = mod_client.post(
        f"/moderation/threads/{big}/comments-open",
        data={"csrf_token": token, "state": "closed"},
    )
    filtered = mod_client.get("/moderation/queue?status=reported&site=news%00")

    # Such an id matches no route (the <int:...> converter is bounded).
    assert (dismissed.status_code, reopened.status_code) == (404, 404)
    assert filtered.status_code == 200
    assert _open(app, comment_id) == 2


def test_the_top_bar_counts_reported_comments_on_every_page(app, mod_client):
    badge = '<span class="badge reported" title="reported comments">1 reported</span>'
    assert badge not in mod_client.get("/moderation/queue").get_data(as_text=True)
    comment_id = _reported(app)  # two reports, under the threshold of 3

    for url in ("/moderation/queue", "/moderation/audit", "/moderation/account/mail"):
        page = mod_client.get(url).get_data(as_text=True)
        assert badge in page, url
        assert 'href="/moderation/queue?status=reported"' in page
    # Another site's moderator sees no count of it.
    from .conftest import logged_in_client

    blogger = logged_in_client(app, "blogger").get("/moderation/queue")
    assert (
        "reported comments" not in blogger.get_data(as_text=True).split("</summary>")[0]
    )

    page = mod_client.get("/moderation/queue?status=reported").get_data(as_text=True)
    mod_client.post(
        f"/moderation/comments/{comment_id}/dismiss-reports",
        data={"csrf_token": csrf_from(page)},
    )
    # Dismissed reports stop counting.
    assert badge not in mod_client.get("/moderation/queue").get_data(as_text=True)

"""Bad input to the moderation UI is a clear answer, never a 500 (issue 25's
outside probe): ids past the INTEGER columns, digits int() cannot read, and
NUL bytes, which PostgreSQL refuses in text."""

import pytest
import sqlalchemy as sa
from factories import ORIGIN, make_comment

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Moderator, Site

from .conftest import csrf_from

PAST_COLUMN = 2**31  # one past INTEGER: PostgreSQL refuses it
PAST_64_BITS = 10**20 - 1  # 20 digits: SQLite's driver cannot bind it
HUGE = [PAST_COLUMN, PAST_64_BITS]


@pytest.fixture
def pending(app, two_sites):
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        comment = make_comment(site, status=CommentStatus.PENDING, body="hello")
        return comment.id, comment.version


def _form(client, **data):
    page = client.get("/moderation/queue").get_data(as_text=True)
    return {"csrf_token": csrf_from(page), "next": "/moderation/queue", **data}


def _status(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).status


@pytest.mark.parametrize("huge", HUGE)
def test_a_decision_on_an_id_past_the_column_is_an_unknown_comment(
    app, mod_client, pending, huge
):
    unknown = mod_client.post(
        "/moderation/decide", data=_form(mod_client, one="approve:999999:1")
    )
    assert unknown.status_code == 403
    for data in (
        {"one": f"approve:{huge}:1"},
        {"bulk": "approve", "selected": [f"{pending[0]}:{pending[1]}", f"{huge}:1"]},
    ):
        response = mod_client.post("/moderation/decide", data=_form(mod_client, **data))
        assert response.status_code == unknown.status_code, data
    assert _status(app, pending[0]) == CommentStatus.PENDING  # all or nothing


@pytest.mark.parametrize("huge", HUGE)
def test_a_version_past_the_column_is_a_conflict(app, mod_client, pending, huge):
    response = mod_client.post(
        "/moderation/decide",
        data=_form(mod_client, one=f"approve:{pending[0]}:{huge}"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "was already pending" in response.get_data(as_text=True)
    assert _status(app, pending[0]) == CommentStatus.PENDING


@pytest.mark.parametrize(
    "value", ["approve:²", "approve:١", "approve:1١", "approve:+1", "approve:1_0"]
)
def test_a_revision_version_int_cannot_read_is_an_unknown_action(
    mod_client, two_sites, value
):
    response = mod_client.post(
        "/moderation/revisions/1/decide",
        data=_form(mod_client, revision=value),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Unknown action." in response.get_data(as_text=True)


@pytest.mark.parametrize("huge", [*HUGE, "9" * 5000])
def test_an_id_past_the_column_in_a_url_is_a_404(admin_client, huge):
    form = _form(admin_client)
    for method, path in [
        ("post", f"/moderation/comments/{huge}/ban"),
        ("post", f"/moderation/comments/{huge}/dismiss-reports"),
        ("get", f"/moderation/comments/{huge}"),
        ("get", f"/moderation/moderators/{huge}"),
        ("post", f"/moderation/moderators/{huge}/deactivate"),
        ("post", f"/moderation/moderators/{huge}/password"),
        ("post", f"/moderation/moderators/{huge}/sites"),
        ("post", f"/moderation/revisions/{huge}/decide"),
        ("post", f"/moderation/threads/{huge}/comments-open"),
        ("post", f"/moderation/bans/{huge}/lift"),
        ("get", f"/moderation/webhooks/{huge}"),
    ]:
        response = getattr(admin_client, method)(path, data=form)
        assert response.status_code == 404, (path[:60], response.status_code)


@pytest.mark.parametrize("huge", [*HUGE, "٣"])
def test_the_apis_comment_urls_past_the_column_are_a_json_404(client, two_sites, huge):
    response = client.delete(
        f"/api/v1/sites/news/comments/{huge}",
        headers={"Origin": ORIGIN, "X-Edit-Token": "x" * 43},
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_nul_in_a_site_slug_is_a_404(admin_client):
    assert admin_client.get("/moderation/sites/%00/settings").status_code == 404
    assert admin_client.get("/moderation/sites/news%00/settings").status_code == 404


def test_a_nul_in_an_admin_form_is_a_form_error(app, admin_client):
    page = admin_client.get("/moderation/moderators").get_data(as_text=True)
    response = admin_client.post(
        "/moderation/moderators",
        data={
            "csrf_token": csrf_from(page),
            "username": "newbie",
            "email": "new\x00bie@example.org",
            "password": "correct horse battery",
        },
    )
    assert response.status_code == 422
    assert "Contains a NUL character." in response.get_data(as_text=True)
    page = admin_client.get("/moderation/sites").get_data(as_text=True)
    response = admin_client.post(
        "/moderation/sites",
        data={
            "csrf_token": csrf_from(page),
            "slug": "da\x00ily",
            "name": "The\x00Daily",
            "allowed_origins": "https://daily.example",
        },
    )
    assert response.status_code == 422
    assert "Contains a NUL character." in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(Moderator).where(Moderator.username == "newbie")
            )
            is None
        )


@pytest.mark.parametrize("path", ["decide", "confirm", "unsubscribe", "resume"])
def test_a_nul_in_a_mail_link_is_no_500(client, two_sites, path):
    assert client.get(f"/mail/{path}/ab%00cd").status_code < 500


def test_a_nul_in_a_decisions_reason_is_named_not_a_500(app, mod_client, pending):
    response = mod_client.post(
        "/moderation/decide",
        data=_form(
            mod_client, one=f"approve:{pending[0]}:{pending[1]}", reason="a\x00b"
        ),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Reason (optional): Contains a NUL character." in response.get_data(
        as_text=True
    )
    assert _status(app, pending[0]) == CommentStatus.PENDING

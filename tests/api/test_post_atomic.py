"""A post is one transaction: a post refused (the captcha) or failing (the
database) leaves no thread behind, not even when it failed after its new
thread's insert, and the reader's retry makes exactly one.

The failure is real: a trigger in the database refuses the comment's insert for
one marked body, after the thread's insert ran in the same request.
"""

import pytest
import sqlalchemy as sa
from factories import ORIGIN, comment_payload, make_site

from commentsvc.extensions import db
from commentsvc.models import Comment, Thread, WebhookEvent

DOOMED = "This body makes the database refuse the insert of its comment."
PAGE = "/a-page-nobody-commented-on"

_TRIGGER = {
    "sqlite": [
        f"""CREATE TRIGGER refuse_doomed_comment BEFORE INSERT ON comments
        WHEN NEW.body = '{DOOMED}'
        BEGIN SELECT RAISE(ABORT, 'refused by the test'); END""",
    ],
    "postgresql": [
        f"""CREATE FUNCTION refuse_doomed_comment() RETURNS trigger AS $$
        BEGIN
            IF NEW.body = '{DOOMED}' THEN
                RAISE EXCEPTION 'refused by the test';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER refuse_doomed_comment BEFORE INSERT ON comments
        FOR EACH ROW EXECUTE FUNCTION refuse_doomed_comment()""",
    ],
}
_DROP = {
    "sqlite": ["DROP TRIGGER IF EXISTS refuse_doomed_comment"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS refuse_doomed_comment ON comments",
        "DROP FUNCTION IF EXISTS refuse_doomed_comment()",
    ],
}


def _run(app, statements) -> None:
    with app.app_context(), db.engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


@pytest.fixture(params=[0, 60], ids=["no-cache", "read-cache"])
def app(make_app, backend, request):
    """The site 'news', and a database that refuses comments whose body is
    DOOMED (the trigger is dropped after the test: the database is shared)."""
    app = make_app(READ_CACHE_TTL=request.param, CAPTCHA_DEV_ENABLED=True)
    with app.app_context():
        make_site()
        make_site("guarded", "Guarded", captcha_provider="dev")
    _run(app, _TRIGGER[backend])
    yield app
    _run(app, _DROP[backend])


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def post(client, body, site="news", **fields):
    payload = comment_payload(thread=PAGE, url=f"{ORIGIN}{PAGE}", body=body, **fields)
    return client.post(
        f"/api/v1/sites/{site}/comments", json=payload, headers={"Origin": ORIGIN}
    )


def test_a_post_failing_after_its_thread_was_made_leaves_no_thread(app, client):
    refused = post(client, DOOMED)

    assert refused.status_code == 500
    assert refused.json["error"]["code"] == "internal_error"
    assert rows(app, Thread) == 0
    assert rows(app, Comment) == 0
    assert rows(app, WebhookEvent) == 0


def test_the_retry_after_a_failed_first_post_makes_exactly_one_thread(app, client):
    assert post(client, DOOMED).status_code == 500

    retried = post(client, "The same reader, trying again.")

    assert retried.status_code == 202, retried.json
    with app.app_context():
        [thread] = db.session.scalars(sa.select(Thread)).all()
        [comment] = db.session.scalars(sa.select(Comment)).all()
        assert (thread.key, comment.thread_id) == (PAGE, thread.id)


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_a_post_refused_by_the_captcha_leaves_no_thread(app, client, token):
    refused = post(client, "Fine words.", site="guarded", captcha_token=token)

    assert 400 <= refused.status_code < 500, refused.json
    assert rows(app, Thread) == 0
    assert rows(app, Comment) == 0

"""A database session ended by the server in the middle of a request: the
request still gets a clean answer, never a 500."""

import sqlalchemy as sa
from factories import comment_payload, make_site

from commentsvc.extensions import db

from .conftest import POST, stored


def test_a_session_ended_during_the_rate_limit_lookup_costs_nothing(
    own_postgres, fault_app
):
    app = fault_app()
    with app.app_context():
        make_site()
    client = app.test_client()
    assert client.post(POST, json=comment_payload(body="First.")).status_code == 202

    ended = []

    def end_the_session(conn, cursor, statement, *args):
        # The rate limiter looks the site up before the view does: the server
        # ends that session (as a restart or an administrator would) just
        # before the lookup reaches it.
        if not ended and "FROM sites" in statement:
            pid = conn.connection.dbapi_connection.info.backend_pid
            own_postgres.execute(f"SELECT pg_terminate_backend({pid})")
            ended.append(pid)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", end_the_session)
    try:
        response = client.post(POST, json=comment_payload(body="Second."))
    finally:
        sa.event.remove(engine, "before_cursor_execute", end_the_session)

    assert ended
    # The database is up again for the view's own lookup: the comment is stored.
    assert response.status_code == 202, response.get_json()
    assert len(stored(app).comment_ids) == 2


def test_a_session_ended_after_the_last_query_still_answers(own_postgres, fault_app):
    app = fault_app()
    with app.app_context():
        make_site()
    client = app.test_client()
    ended = []

    def end_the_session(conn, cursor, statement, *args):
        # The listing is read; then, before the request ends (and rolls its
        # read-only transaction back), the server ends the session.
        if not ended and "FROM threads" in statement:
            pid = conn.connection.dbapi_connection.info.backend_pid
            own_postgres.execute(f"SELECT pg_terminate_backend({pid})")
            ended.append(pid)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", end_the_session)
    try:
        response = client.get(POST, query_string={"thread": "/read-then-ended"})
    finally:
        sa.event.remove(engine, "after_cursor_execute", end_the_session)

    assert ended
    assert response.status_code == 200
    assert response.get_json()["comments"] == []
    # The app goes on with a fresh connection.
    assert client.post(POST, json=comment_payload()).status_code == 202

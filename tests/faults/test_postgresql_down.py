"""PostgreSQL stops while readers post and read through gunicorn: every answer is
a 202 or a 503 with Retry-After (never a 500), nothing is half stored, and the
same app processes answer 202 again once the server is back."""

import time

from factories import make_site
from servers import Gunicorn
from timing import within

from .conftest import Traffic, child_pids, process_env, stored

RETRY_AFTER = 7


def test_postgresql_stopped_while_readers_post(own_postgres, fault_app):
    app = fault_app(UNAVAILABLE_RETRY_AFTER=RETRY_AFTER)
    with app.app_context():
        make_site()
    env = process_env(app, UNAVAILABLE_RETRY_AFTER=RETRY_AFTER)

    with Gunicorn(env, workers=2, threads=8) as server:
        workers = child_pids(server.process.pid)
        assert len(workers) == 2
        with Traffic(server.url, posters=8, readers=2) as traffic:
            traffic.wait_for(202, 40)
            # Sessions in the middle of a post are ended and their transactions
            # rolled back; new connections are refused until the restart.
            own_postgres.stop("fast")
            stopped_at = time.monotonic()
            traffic.wait_for(503, 40, since=stopped_at)
            traffic.wait_for(503, 10, kind="read", since=stopped_at)
            restarting_at = time.monotonic()
            own_postgres.start()
            back_at = time.monotonic()
            traffic.wait_for(202, 40, since=back_at)
            traffic.wait_for(200, 10, kind="read", since=back_at)
        # Recovered in place: the same worker processes, none restarted.
        assert child_pids(server.process.pid) == workers
        assert server.process.poll() is None
    results = traffic.since()

    answers = {(r.kind, r.status) for r in results}
    expected = {("post", 202), ("post", 503), ("read", 200), ("read", 503)}
    assert answers <= expected, [
        (r.kind, r.status, r.error, r.body)
        for r in results
        if (r.kind, r.status) not in expected
    ]
    while_down = [
        r for r in results if r.started > stopped_at and r.finished < restarting_at
    ]
    assert {r.status for r in while_down} == {503}
    # The pool recovered at once: every request sent after the restart worked.
    assert {r.status for r in traffic.since(back_at)} == {200, 202}

    unavailable = [r for r in results if r.status == 503]
    for result in unavailable:
        assert result.headers["Retry-After"] == str(RETRY_AFTER)
        assert result.headers["Content-Type"] == "application/json"
        assert result.body["error"]["code"] == "unavailable"
        assert result.body["error"]["message"]
        assert result.body["error"]["fields"] == {}
    # Refused connections are answered at once, not after a hang.
    assert max(r.elapsed for r in unavailable) < within(
        5, waits=app.config["DATABASE_CONNECT_TIMEOUT"]
    )

    accepted = [r.body["id"] for r in results if r.kind == "post" and r.status == 202]
    assert len(set(accepted)) == len(accepted)
    held = stored(app)
    # Every 202 is a stored comment, and every stored comment was answered 202:
    # a post that failed left no comment, no event and no thread behind.
    assert held.comment_ids == sorted(accepted)
    assert held.event_comment_ids == held.comment_ids
    assert held.threads_without_comments == 0

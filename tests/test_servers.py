"""The servers a test starts itself are stopped even when they never became
ready: one slow to start on a loaded machine used to outlive its test (four
gunicorns were left running after a run on a busy 2-core machine)."""

import pytest
from servers import Gunicorn, RedisServer, app_environment


def test_a_gunicorn_not_ready_in_time_is_stopped(app):
    server = Gunicorn(app_environment(app))
    server.ready_timeout = 0  # the first health check finds nothing yet
    with pytest.raises(Exception), server:  # noqa: B017 - whichever it raised
        pass
    assert server.process.poll() is not None


def test_a_redis_server_not_ready_in_time_is_stopped(monkeypatch):
    import servers

    def never_ready(check, timeout=15.0, interval=0.05):
        raise TimeoutError("condition not met in time")

    monkeypatch.setattr(servers, "wait_until", never_ready)
    server = RedisServer()
    with pytest.raises(TimeoutError):
        server.start()
    assert server.process.poll() is not None

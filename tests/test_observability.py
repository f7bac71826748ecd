"""Structured JSON logs with a request id, and Prometheus metrics."""

import json
import re

from factories import ORIGIN, comment_payload, make_comment, make_site
from sqlalchemy import event

from commentsvc.extensions import db
from commentsvc.models import CommentStatus

URL = "/api/v1/sites/news/comments"


def test_every_response_carries_a_request_id_and_logs_name_it(client, log_lines):
    first = client.get("/healthz")
    second = client.get("/healthz")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    access = [line for line in log_lines() if line["logger"] == "commentsvc.access"]
    assert [line["request_id"] for line in access] == ids
    line = access[0]
    assert line["method"] == "GET" and line["path"] == "/healthz"
    assert line["status"] == 200 and line["duration_ms"] >= 0
    assert line["level"] == "info" and line["ts"].endswith("Z")


def test_a_sane_client_request_id_is_kept_and_an_odd_one_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "edge-42.abc_DEF"})
    assert kept.headers["X-Request-ID"] == "edge-42.abc_DEF"
    replaced = client.get(
        "/healthz", headers={"X-Request-ID": "bad id\u00e9" + "x" * 80}
    )
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])


def test_log_lines_written_during_a_request_carry_its_id(make_app, log_lines):
    # A captcha provider that cannot be reached logs a warning mid-request.
    app = make_app(CAPTCHA_RECAPTCHA_VERIFY_URL="http://127.0.0.1:9/siteverify")
    with app.app_context():
        make_site(captcha_provider="recaptcha_v2", captcha_secret="s")
    response = app.test_client().post(URL, json=comment_payload(captcha_token="t"))
    assert response.status_code == 202
    warnings = [line for line in log_lines() if line["level"] == "warning"]
    assert warnings and warnings[0]["request_id"] == response.headers["X-Request-ID"]
    # What readers typed never reaches the logs.
    assert "A thoughtful comment." not in json.dumps(log_lines())


def _metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        metric, _, value = line.rpartition(" ")
        metric_name, _, raw_labels = metric.partition("{")
        if metric_name != name:
            continue
        got = ",".join(sorted(raw_labels.rstrip("}").split(","))) if raw_labels else ""
        if got == wanted:
            return float(value)
    return 0.0


def test_metrics_count_posts_by_outcome_captcha_limits_and_queue(make_app):
    # The database gauges read afresh on each scrape (see the caching below).
    app = make_app(
        CAPTCHA_DEV_ENABLED=True, RATELIMIT_POST="3/minute", METRICS_DATABASE_INTERVAL=0
    )
    with app.app_context():
        make_site(captcha_provider="dev")
    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)

    def token():
        return client.post("/api/v1/sites/news/captcha/dev-token").json["token"]

    assert (
        client.post(URL, json=comment_payload(captcha_token=token())).status_code == 202
    )
    honeypot = comment_payload(captcha_token=token(), website="x", body="b2")
    assert client.post(URL, json=honeypot).status_code == 202
    assert client.post(URL, json=comment_payload(body="")).status_code == 422
    assert client.post(URL, json=comment_payload()).status_code == 429

    after = client.get("/metrics")
    assert after.status_code == 200
    assert after.mimetype == "text/plain"
    text = after.get_data(as_text=True)

    def delta(name, **labels):
        return _metric(text, name, **labels) - _metric(before, name, **labels)

    assert delta("commentsvc_posts_total", outcome="pending") == 1
    assert delta("commentsvc_posts_total", outcome="spam") == 1
    assert delta("commentsvc_posts_total", outcome="validation_failed") == 1
    assert delta("commentsvc_posts_total", outcome="rate_limited") == 1
    assert delta("commentsvc_rate_limited_total", endpoint="api.post_comment") == 1
    assert (
        delta("commentsvc_captcha_verifications_total", provider="dev", outcome="ok")
        == 2
    )
    assert _metric(text, "commentsvc_pending_comments") == 1
    assert _metric(text, "commentsvc_database_up") == 1
    assert "commentsvc_webhook_lag_seconds" in text
    assert 'commentsvc_webhook_deliveries{status="pending"}' in text
    assert "commentsvc_http_request_duration_seconds_bucket" in text


def test_metrics_can_require_a_token(make_app):
    client = make_app(METRICS_TOKEN="scrape-me").test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200


def test_metrics_are_private_by_default(make_app):
    """Without a token, only a scraper on this host (or a configured network)
    is answered; a request relayed by a local proxy is not that scraper."""
    client = make_app().test_client()
    local = client.get("/metrics")
    assert local.status_code == 200  # the test client: loopback
    assert local.headers["Content-Type"].count("charset") == 1
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    relayed = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 403

    allowed = make_app(METRICS_ALLOW_NETWORKS="10.0.0.0/8").test_client()
    ok = allowed.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert ok.status_code == 200
    assert allowed.get("/metrics").status_code == 403

    # A token is wanted from everywhere once set; it opens it from everywhere.
    tokened = make_app(METRICS_TOKEN="scrape-me").test_client()
    bearer = {"Authorization": "Bearer scrape-me"}
    assert tokened.get("/metrics", environ_base=outside).status_code == 401
    scraped = tokened.get("/metrics", environ_base=outside, headers=bearer)
    assert scraped.status_code == 200


def test_the_database_gauges_are_read_once_per_interval_for_all_instances(
    make_app,
):
    """Two instances scraped back to back: the second reuses the numbers the
    first read (through Redis) and runs no count of its own."""
    first = make_app(METRICS_DATABASE_INTERVAL=60)
    second = make_app(METRICS_DATABASE_INTERVAL=60)
    with first.app_context():
        site = make_site()
    text = first.test_client().get("/metrics").get_data(as_text=True)
    assert _metric(text, "commentsvc_pending_comments") == 0

    with second.app_context():
        make_comment(site, status=CommentStatus.PENDING)
        statements = []
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda *args: statements.append(args[2]),
        )
    for _ in range(3):
        text = second.test_client().get("/metrics").get_data(as_text=True)
        assert _metric(text, "commentsvc_pending_comments") == 0  # the shared one
        assert 0 <= _metric(text, "commentsvc_database_gauges_age_seconds") < 60
    assert statements == []

    fresh = make_app(METRICS_DATABASE_INTERVAL=0).test_client()
    text = fresh.get("/metrics").get_data(as_text=True)
    assert _metric(text, "commentsvc_pending_comments") == 1


def test_metrics_report_the_database_down_instead_of_failing():
    from conftest import base_config
    from tcpproxy import free_port

    from commentsvc import create_app

    app = create_app(base_config(f"postgresql://postgres@127.0.0.1:{free_port()}/x"))
    response = app.test_client().get("/metrics", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert _metric(response.get_data(as_text=True), "commentsvc_database_up") == 0

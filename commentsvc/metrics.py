"""Prometheus metrics at /metrics.

Counters and histograms live in the process that counts them; under gunicorn set
PROMETHEUS_MULTIPROC_DIR (an empty directory shared by the workers) and every
worker's numbers are summed at scrape time. Queue depth and webhook lag are read
from the database when scraped, so they are right whichever instance answers.
"""

import hmac
import os
import time

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import (
    Comment,
    CommentStatus,
    DeliveryStatus,
    WebhookDelivery,
    as_utc,
    utcnow,
)

bp = Blueprint("metrics", __name__)

# Metric objects are module-level by Prometheus convention: they only count, and
# read nothing from the environment.
POSTS = Counter(
    "commentsvc_posts_total",
    "Comment posts by outcome (pending, spam, approved, or the error code).",
    ["outcome"],
)
CAPTCHA = Counter(
    "commentsvc_captcha_verifications_total",
    "Captcha verifications by provider and outcome.",
    ["provider", "outcome"],
)
CAPTCHA_LATENCY = Histogram(
    "commentsvc_captcha_latency_seconds",
    "Time to verify a captcha token with its provider.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8),
)
LISTING_BUILDS = Counter(
    "commentsvc_listing_builds_total",
    "Listing pages missing from a process's cache, by how they were had: built "
    "from the database, shared from another process's rebuild, or built alone "
    "(Redis unavailable).",
    ["outcome"],
)
RATE_LIMITED = Counter(
    "commentsvc_rate_limited_total",
    "Requests refused with 429, by endpoint.",
    ["endpoint"],
)
REQUESTS = Histogram(
    "commentsvc_http_request_duration_seconds",
    "Request latency by endpoint and status class.",
    ["endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 6),
)
WEBHOOK_ATTEMPTS = Counter(
    "commentsvc_webhook_attempts_total",
    "Webhook delivery attempts by result (counted by the workers).",
    ["result"],
)


def observe_captcha(provider: str, outcome: str, latency_ms: int | None) -> None:
    CAPTCHA.labels(provider, outcome).inc()
    if latency_ms is not None:
        CAPTCHA_LATENCY.labels(provider).observe(latency_ms / 1000)


class DatabaseCollector:
    """Gauges read from the database at scrape time."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        pending = GaugeMetricFamily(
            "commentsvc_pending_comments", "Comments waiting for moderation."
        )
        deliveries = GaugeMetricFamily(
            "commentsvc_webhook_deliveries",
            "Webhook deliveries by status.",
            labels=["status"],
        )
        lag = GaugeMetricFamily(
            "commentsvc_webhook_lag_seconds",
            "Age of the oldest webhook delivery that is due and not yet delivered.",
        )
        up = GaugeMetricFamily(
            "commentsvc_database_up", "1 if the database answered the scrape."
        )
        with self.app.app_context():
            try:
                pending.add_metric(
                    [],
                    db.session.scalar(
                        sa.select(sa.func.count()).where(
                            Comment.status == CommentStatus.PENDING
                        )
                    ),
                )
                counts = dict(
                    db.session.execute(
                        sa.select(WebhookDelivery.status, sa.func.count()).group_by(
                            WebhookDelivery.status
                        )
                    ).all()
                )
                for status in DeliveryStatus:
                    deliveries.add_metric([status.value], counts.get(status, 0))
                now = utcnow()
                oldest = db.session.scalar(
                    sa.select(sa.func.min(WebhookDelivery.next_attempt_at)).where(
                        WebhookDelivery.status == DeliveryStatus.PENDING,
                        WebhookDelivery.next_attempt_at <= now,
                    )
                )
                lag.add_metric(
                    [], (now - as_utc(oldest)).total_seconds() if oldest else 0.0
                )
                up.add_metric([], 1)
            except SQLAlchemyError:
                db.session.rollback()
                up.add_metric([], 0)
                yield up
                return
            finally:
                db.session.remove()
        yield from (pending, deliveries, lag, up)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (
            POSTS,
            CAPTCHA,
            CAPTCHA_LATENCY,
            RATE_LIMITED,
            REQUESTS,
            WEBHOOK_ATTEMPTS,
        ):
            registry.register(collector)
    registry.register(DatabaseCollector(current_app._get_current_object()))
    return registry


@bp.get("/metrics")
def metrics():
    """Prometheus metrics (optionally behind a bearer token)."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(offered.encode(), token.encode()):
            abort(401)
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def _start():
    g.metrics_started = time.perf_counter()


def _observe(response):
    started = g.get("metrics_started")
    endpoint = request.endpoint or "unmatched"
    if started is not None and endpoint != "metrics.metrics":
        REQUESTS.labels(endpoint, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
    if response.status_code == 429:
        RATE_LIMITED.labels(endpoint).inc()
    if endpoint == "api.post_comment" and request.method == "POST":
        POSTS.labels(
            g.get("post_outcome") or g.get("error_code") or str(response.status_code)
        ).inc()
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_observe)

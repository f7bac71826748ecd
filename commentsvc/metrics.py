"""Prometheus metrics at /metrics.

Counters and histograms live in the process that counts them; under gunicorn set
PROMETHEUS_MULTIPROC_DIR (an empty directory shared by the workers) and every
worker's numbers are summed at scrape time. Queue depth and webhook lag are read
from the database, at most once per METRICS_DATABASE_INTERVAL seconds across
every instance (shared through Redis), so scrapes stay cheap and agree whichever
instance answers.

Private by default: with METRICS_TOKEN set a scraper sends it as a bearer
token; without, only addresses on METRICS_ALLOW_NETWORKS (loopback) may scrape.
"""

import contextlib
import hashlib
import hmac
import ipaddress
import json
import os
import threading
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
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, get_redis
from .models import (
    Comment,
    CommentStatus,
    DeliveryStatus,
    WebhookDelivery,
    as_utc,
    utcnow,
)
from .ratelimit import client_ip

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


def _count_database() -> dict:
    """The numbers behind the database gauges, read now.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """
    pending = db.session.scalar(
        sa.select(sa.func.count()).where(Comment.status == CommentStatus.PENDING)
    )
    counts = dict(
        db.session.execute(
            sa.select(WebhookDelivery.status, sa.func.count()).group_by(
                WebhookDelivery.status
            )
        ).all()
    )
    now = utcnow()
    oldest = db.session.scalar(
        sa.select(sa.func.min(WebhookDelivery.next_attempt_at)).where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
    )
    return {
        "pending": pending,
        "deliveries": {s.value: counts.get(s, 0) for s in DeliveryStatus},
        "lag": (now - as_utc(oldest)).total_seconds() if oldest else 0.0,
        "up": 1,
        "at": time.time(),
    }


class DatabaseCollector:
    """Gauges read from the database, at most once per METRICS_DATABASE_INTERVAL
    seconds for every instance: a scrape (each of several Prometheus servers,
    each instance behind the load balancer) reuses the numbers another scrape
    read recently, kept in this process and shared through Redis."""

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._last: dict | None = None

    def _redis_key(self) -> str:
        # The numbers are the database's: instances on another database (a
        # staging copy sharing the Redis prefix) keep their own.
        database = hashlib.sha256(self.app.config["DATABASE_URL"].encode())
        return (
            f"{self.app.config['REDIS_KEY_PREFIX']}metrics:database:"
            f"{database.hexdigest()[:16]}"
        )

    def _numbers(self) -> dict:
        interval = self.app.config["METRICS_DATABASE_INTERVAL"]
        last = self._last
        if last is not None and time.time() - last["at"] < interval:
            return last
        # One scrape at a time reads the database; the others wait for its
        # numbers rather than run the same counts beside it.
        with self._lock:
            last = self._last
            if last is not None and time.time() - last["at"] < interval:
                return last
            with self.app.app_context():
                numbers = self._shared(interval) or self._read(interval)
            self._last = numbers
            return numbers

    def _shared(self, interval: float) -> dict | None:
        if not interval:
            return None
        try:
            raw = get_redis().get(self._redis_key())
            numbers = json.loads(raw) if raw else None
        except (RedisError, OSError, ValueError):
            return None
        if numbers and time.time() - numbers.get("at", 0) < interval:
            return numbers
        return None

    def _read(self, interval: float) -> dict:
        try:
            numbers = _count_database()
        except SQLAlchemyError:
            db.session.rollback()
            # Not shared: another instance may reach the database.
            return {"up": 0, "at": time.time()}
        finally:
            db.session.remove()
        if interval:
            with contextlib.suppress(RedisError, OSError):
                get_redis().set(
                    self._redis_key(), json.dumps(numbers), ex=max(1, int(interval))
                )
        return numbers

    def collect(self):
        numbers = self._numbers()
        up = GaugeMetricFamily(
            "commentsvc_database_up", "1 if the database answered the scrape."
        )
        up.add_metric([], numbers["up"])
        age = GaugeMetricFamily(
            "commentsvc_database_gauges_age_seconds",
            "Age of the numbers read from the database (they are reused for "
            "METRICS_DATABASE_INTERVAL seconds).",
        )
        age.add_metric([], max(0.0, time.time() - numbers["at"]))
        if not numbers["up"]:
            yield from (up, age)
            return
        pending = GaugeMetricFamily(
            "commentsvc_pending_comments", "Comments waiting for moderation."
        )
        pending.add_metric([], numbers["pending"])
        deliveries = GaugeMetricFamily(
            "commentsvc_webhook_deliveries",
            "Webhook deliveries by status.",
            labels=["status"],
        )
        for status, count in numbers["deliveries"].items():
            deliveries.add_metric([status], count)
        lag = GaugeMetricFamily(
            "commentsvc_webhook_lag_seconds",
            "Age of the oldest webhook delivery that is due and not yet delivered.",
        )
        lag.add_metric([], numbers["lag"])
        yield from (pending, deliveries, lag, up, age)


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
    registry.register(current_app.extensions["commentsvc.database_collector"])
    return registry


def allowed_without_token() -> bool:
    """A scrape from METRICS_ALLOW_NETWORKS (loopback by default). A request
    that came through a proxy on this host also arrives from loopback: unless
    the proxy hops are trusted (and remote_addr is the client's), one that
    carries forwarding headers is not the local scraper."""
    if not current_app.config["TRUSTED_PROXIES"] and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    ):
        return False
    try:
        address = ipaddress.ip_address(client_ip() or "")
    except ValueError:
        return False
    return any(address in network for network in _networks())


def _networks():
    return current_app.extensions["commentsvc.metrics_networks"]


@bp.get("/metrics")
def metrics():
    """Prometheus metrics: with METRICS_TOKEN set, for a bearer of it; else only
    for scrapers on METRICS_ALLOW_NETWORKS (loopback by default)."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(offered.encode(), token.encode()):
            abort(401)
    elif not allowed_without_token():
        abort(403)
    return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def parse_networks(value: str) -> list:
    """The networks of a comma-separated list ("127.0.0.0/8, ::1").

    Raises:
        ValueError: an entry is not an IP network.
    """
    return [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",")
        if part.strip()
    ]


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
    app.extensions["commentsvc.database_collector"] = DatabaseCollector(app)
    app.extensions["commentsvc.metrics_networks"] = parse_networks(
        app.config["METRICS_ALLOW_NETWORKS"]
    )
    app.before_request(_start)
    app.after_request(_observe)

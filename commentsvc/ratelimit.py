"""Per-client-IP rate limits, counted atomically in Redis by Flask-Limiter.

Every app process shares the counters in Redis, so N concurrent posts admit
exactly the limit however many processes serve them. If Redis is down or hung,
the first call that fails opens the app's Redis circuit (commentsvc/
redis_circuit.py, which logs it) and each process counts in its own memory,
reported by /readyz, until the circuit's probe finds Redis answering again.
"""

import ipaddress
import logging
import threading
import time

from flask import Flask, current_app, render_template, request
from flask_limiter import Limiter
from limits import parse_many
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import api_error_response, is_api_request, rate_limited
from .redis_circuit import get_circuit

log = logging.getLogger(__name__)

# One subscriber usually holds a whole /64 (RATELIMIT_IPV6_PREFIX changes it).
IPV6_BUCKET_PREFIX = 64


def client_ip(remote_addr: str | None = None) -> str | None:
    """The client's address; an IPv4-mapped IPv6 address counts as IPv4.

    Behind ``TRUSTED_PROXIES`` proxy hops ProxyFix has already put the client's
    address in ``remote_addr``; otherwise it is the socket peer, and a
    client-sent X-Forwarded-For changes nothing.
    """
    raw = remote_addr if remote_addr is not None else request.remote_addr
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return raw[:45]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def ip_bucket(ip: str | None, ipv6_prefix: int = IPV6_BUCKET_PREFIX) -> str:
    """The rate-limit bucket of an address: itself for IPv4, its network of
    *ipv6_prefix* bits for IPv6 (one subscriber usually holds a whole /64)."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, ipv6_prefix), strict=False)
        return str(network)
    return str(address)


def client_bucket() -> str:
    return ip_bucket(client_ip(), current_app.config["RATELIMIT_IPV6_PREFIX"])


def read_limits() -> str:
    return current_app.config["RATELIMIT_READ"]


def _fallback_limits() -> str:
    # Flask-Limiter applies the fallback to every endpoint: keep each limited
    # view as strict as with Redis (its first rule), and reads loose.
    rules = current_app.extensions["commentsvc.view_limits"].get(request.endpoint)
    if rules:
        return rules[0][0]()
    return read_limits()


def validate_limits(value: str) -> str:
    """Return *value* if Flask-Limiter can parse it ("5/minute;30/hour").

    Raises:
        ValueError: it cannot.
    """
    try:
        parsed = parse_many(value)
    except ValueError:
        parsed = []
    if not parsed:
        raise ValueError(f"{value!r} is not a rate limit like '5/minute;30/hour'.")
    return value


def get_redis_pool(app: Flask):
    return app.extensions["commentsvc.redis"].connection_pool


def _storage_back(limiter: Limiter) -> None:
    # Flask-Limiter keeps this state privately (see using_fallback).
    limiter._storage_dead = False


def get_limiter() -> Limiter:
    return current_app.extensions["commentsvc.limiter"]


def using_fallback() -> bool:
    """True while this process counts in memory because Redis failed."""
    # Flask-Limiter keeps this state privately; it has no public accessor.
    return bool(getattr(get_limiter(), "_storage_dead", False))


def limiter_state() -> str:
    """Where this process counts: "redis", "in-process fallback" (Redis failed)
    or "in-process" (the demo without Redis)."""
    if current_app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        return "in-process"
    return "in-process fallback" if using_fallback() else "redis"


def retry_after_seconds() -> int:
    """Seconds until the limit that refused this request resets."""
    current = get_limiter().current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()) + 1)


def _redis_reachable(app: Flask) -> bool:
    # The probe's own connection: a demo without Redis is no outage to log.
    return get_circuit(app).probe()


def _refused(error: HTTPException):
    """Flask-Limiter's refusal, in our envelope (or error page) with Retry-After."""
    refusal = rate_limited(retry_after_seconds())
    if is_api_request():
        return api_error_response(refusal)
    error.description = refusal.message
    return (
        render_template("errors/error.html", error=error),
        429,
        refusal.headers,
    )


def add_rate_limit_headers(response):
    """X-RateLimit-* on a refusal (429): the limit that refused.

    Only there: computing "remaining" costs a Redis round trip, which every
    accepted post would pay, and the cacheable listing must carry nothing per
    client anyway.
    """
    if "commentsvc.limiter" not in current_app.extensions:
        return response
    if response.status_code != 429:
        return response
    current = get_limiter().current_limit
    if current is None:
        return response
    try:
        response.headers["X-RateLimit-Limit"] = str(current.limit.amount)
        response.headers["X-RateLimit-Remaining"] = str(current.remaining)
        response.headers["X-RateLimit-Reset"] = str(int(current.reset_at))
    except Exception:  # noqa: BLE001 - headers are a courtesy; never fail for them
        log.debug("rate limit headers skipped", exc_info=True)
    return response


def _login_username() -> str:
    return (request.form.get("username") or "").strip().lower()[:64]


def login_account() -> str:
    """Login attempts counted per account, whatever the IP (only without a login
    captcha: anyone could use this count to lock the account)."""
    return "account|" + _login_username()


def login_account_client() -> str:
    """Login attempts counted per account and client bucket: tight, and the
    owner elsewhere is not affected."""
    return f"account-ip|{_login_username()}|{client_bucket()}"


def _login_has_captcha() -> bool:
    return current_app.config["LOGIN_CAPTCHA_PROVIDER"] != "none"


# Set by the moderation package (which imports this module, not the reverse): a
# function telling whether this login request comes from a browser with a good
# device cookie for the account.
TRUSTED_LOGIN_DEVICE = "commentsvc.trusted_login_device"


def _login_account_exempt() -> bool:
    # A browser with the account's device cookie has its own allowance: the
    # per-account count, which strangers can use up, is not its business.
    trusted = current_app.extensions.get(TRUSTED_LOGIN_DEVICE)
    return _login_has_captcha() or (trusted is not None and trusted() is not None)


def config_limit(name: str):
    """The limits of setting *name*, read when a request is counted."""
    return lambda: current_app.config[name]


# Which views are limited, how, and by what key; applied per app in init_app,
# with the views' own (commentsvc.api.limits).
# (limits, key function, methods or None for all[, exempt when])
VIEW_LIMITS = {
    "moderation.login": [
        (config_limit("RATELIMIT_LOGIN_IP"), client_bucket, ["POST"]),
        (
            config_limit("RATELIMIT_LOGIN_ACCOUNT_IP"),
            login_account_client,
            ["POST"],
        ),
        (
            config_limit("RATELIMIT_LOGIN_ACCOUNT"),
            login_account,
            ["POST"],
            _login_account_exempt,
        ),
    ],
}


# Reads are counted in each process's memory, not in Redis: the limit is a loose
# guard against floods (a CDN in front takes most reads anyway), and a Redis round
# trip would cost more than serving a cached thread. N processes allow up to N
# times the read limit; posts stay exact, in Redis.
READ_ENDPOINTS = {"api.list_comments", "api.thread_counts", "api.comments_preflight"}


class ProcessCounter:
    """Fixed-window counts in this process's memory, for the loose read limit.

    (limits' MemoryStorage does the same but starts a timer thread to expire
    keys, which costs more per read than serving a cached thread; here a window
    simply replaces the last one.)
    """

    def __init__(self, limits, max_keys: int = 100_000):
        self.limits = [(item.amount, item.get_expiry()) for item in limits]
        self.max_keys = max_keys
        self._counts: dict = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, now: float | None = None) -> int | None:
        """Count a request from *bucket*; None if allowed, else the seconds
        until the window that refused it ends."""
        now = time.time() if now is None else now
        with self._lock:
            if len(self._counts) > self.max_keys:
                self._counts.clear()  # a flood of addresses: start afresh
            for amount, seconds in self.limits:
                window = int(now // seconds)
                key = (bucket, seconds)
                current_window, count = self._counts.get(key, (window, 0))
                if current_window != window:
                    count = 0
                if count >= amount:
                    return max(1, int((window + 1) * seconds - now) + 1)
                self._counts[key] = (window, count + 1)
        return None


def _limit_reads():
    if (
        request.endpoint not in READ_ENDPOINTS
        or not current_app.config["RATELIMIT_ENABLED"]
    ):
        return None
    retry_after = current_app.extensions["commentsvc.read_limits"].hit(client_bucket())
    if retry_after is not None:
        raise rate_limited(retry_after)
    return None


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-* from exactly TRUSTED_PROXIES hops. Call last, so
    that ProxyFix sits outside every other WSGI layer."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def init_app(app: Flask, view_limits: dict | None = None) -> None:
    """Give *app* its own limiter, configured from our settings, and wrap the
    limited views: ours (login) and *view_limits* (endpoint -> rules, as in
    VIEW_LIMITS).

    Call after the blueprints are registered. One limiter per app (not a module
    global) because Flask-Limiter keeps its storage on the instance.
    """

    storage_uri = app.config["REDIS_URL"]
    if app.config["DEV_DEMO"] and not _redis_reachable(app):
        log.warning(
            "Redis is not reachable: the demo counts rate limits in this process's "
            "memory (fine for one process, wrong for several)"
        )
        storage_uri = "memory://"
    app.config.update(
        RATELIMIT_STORAGE_URI=storage_uri,
        # The app's own pool (timeouts, and the circuit that makes the limiter
        # fall back at once while another Redis call has just timed out).
        RATELIMIT_STORAGE_OPTIONS=(
            {}
            if storage_uri == "memory://"
            else {"connection_pool": get_redis_pool(app)}
        ),
        RATELIMIT_KEY_PREFIX=app.config["REDIS_KEY_PREFIX"] + "ratelimit",
        RATELIMIT_STRATEGY="fixed-window",
        # Flask-Limiter's own headers would also stamp Retry-After on every
        # response (and overwrite a 503's); add_rate_limit_headers does it right.
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    limiter = Limiter(
        key_func=client_bucket,
        in_memory_fallback=[_fallback_limits],
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    # Flask-Limiter checks a dead storage again only after growing pauses (up
    # to half a minute), and with a request's time; the circuit's prober knows
    # sooner, without one.
    get_circuit(app).on_recovery(lambda: _storage_back(limiter))
    # Reads have their own in-memory counter (below): spare them Flask-Limiter's
    # per-request work entirely.
    limiter.request_filter(lambda: request.endpoint in READ_ENDPOINTS)
    app.extensions["commentsvc.limiter"] = limiter
    app.after_request(add_rate_limit_headers)
    app.extensions["commentsvc.read_limits"] = ProcessCounter(
        parse_many(app.config["RATELIMIT_READ"])
    )
    app.before_request(_limit_reads)
    all_rules = {**VIEW_LIMITS, **(view_limits or {})}
    app.extensions["commentsvc.view_limits"] = all_rules
    app.register_error_handler(429, _refused)
    for endpoint, rules in all_rules.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        for limits, key_func, methods, *exempt in rules:
            view = limiter.limit(
                limits,
                key_func=key_func,
                methods=methods,
                exempt_when=exempt[0] if exempt else None,
            )(view)
        app.view_functions[endpoint] = view

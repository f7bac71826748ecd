"""Configuration: defaults, then ``COMMENTSVC_*`` environment variables, then the
mapping a test passes to :func:`commentsvc.create_app`.

Bad configuration fails fast, at start-up, with a message that names the setting.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from .envparse import (
    ENV_PREFIX,
    ConfigError,
    _parse_bool,
    _parse_choice,
    _parse_ipv6_prefix,
    _parse_limits,
    _parse_mail_retry_delays,
    _parse_mail_url,
    _parse_metrics_networks,
    _parse_number,
    _parse_str,
    _parse_webhook_allow_list,
    _parse_webhook_retry_delays,
)
from .startup_checks import (
    DEMO_SECRET_KEY as DEMO_SECRET_KEY,
)
from .startup_checks import (
    LOGIN_CAPTCHA_PROVIDERS,
    check_mail,
    engine_options,
    login_captcha_provider,
    secret_key,
)
from .startup_checks import (
    SecretKeyMissing as SecretKeyMissing,
)

DEFAULTS = {
    "SECRET_KEY": None,
    # The single-process demo: allows a missing SECRET_KEY and in-memory fallbacks.
    "DEV_DEMO": False,
    "DATABASE_URL": None,  # None -> sqlite file under instance/
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "REDIS_KEY_PREFIX": "commentsvc:",
    "REDIS_SOCKET_TIMEOUT": 0.5,
    # After a Redis call fails, Redis is skipped and probed this often (seconds)
    # until it answers (see commentsvc/redis_circuit.py).
    "REDIS_PROBE_INTERVAL": 1.0,
    "DATABASE_CONNECT_TIMEOUT": 3,
    # Pooled PostgreSQL connections per process (and as many again in bursts):
    # match gunicorn's --threads.
    "DATABASE_POOL_SIZE": 10,
    # Largest request body accepted anywhere, in bytes.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Seconds a CDN or browser may cache a thread listing.
    "API_CACHE_MAX_AGE": 30,
    # The in-process cache of public reads: seconds an entry may live (changes
    # invalidate it at once; this bounds a lost invalidation), and how many
    # bytes of it each process keeps.
    "READ_CACHE_TTL": 30.0,
    "READ_CACHE_BYTES": 64 * 1024 * 1024,
    # Thread listings: top-level comments a page carries, replies under each
    # (the rest through cursors), and how long a process waits for another
    # one's rebuild of the same page before building it itself.
    "LISTING_PAGE_SIZE": 50,
    "LISTING_REPLIES": 10,
    "LISTING_REBUILD_WAIT": 3.0,
    # Seconds a client is asked to wait when the database is unavailable.
    "UNAVAILABLE_RETRY_AFTER": 5,
    # Captcha verification (see commentsvc/captcha/).
    "CAPTCHA_RECAPTCHA_VERIFY_URL": "https://www.google.com/recaptcha/api/siteverify",
    "CAPTCHA_HCAPTCHA_VERIFY_URL": "https://api.hcaptcha.com/siteverify",
    "CAPTCHA_TURNSTILE_VERIFY_URL": (
        "https://challenges.cloudflare.com/turnstile/v0/siteverify"
    ),
    "CAPTCHA_CONNECT_TIMEOUT": 2.0,
    "CAPTCHA_READ_TIMEOUT": 5.0,
    # The built-in dev provider: off unless enabled; never for production.
    "CAPTCHA_DEV_ENABLED": False,
    "CAPTCHA_DEV_TOKEN_LIFETIME": 120,
    # Rate limits per client IP (IPv6: per /64), Flask-Limiter syntax. Posts are
    # counted per site; a site may set its own post limit.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_POST": "5/minute;30/hour;200/day",
    # Posts per client across every site of the instance (a client spread over
    # many sites meets this cap too; a site's own limit does not lift it). Each
    # window costs a post one Redis round trip: one window by default.
    "RATELIMIT_POST_ALL_SITES": "100/hour",
    "RATELIMIT_READ": "600/minute",
    "RATELIMIT_CAPTCHA": "30/minute",
    # Readers' reports, and authors' edits and deletions, per client IP.
    "RATELIMIT_REPORT": "5/minute;30/day",
    # A network (IPv4 address, IPv6 /48) with this many reports in the last
    # hour must solve the site's captcha for each further one (on a site
    # without a captcha: wait); see commentsvc/comments/reporters.py.
    "REPORT_CAPTCHA_AFTER": 3,
    "RATELIMIT_EDIT": "10/minute;100/day",
    # Readers asking for an e-mail sign-in link, per client IP (each address
    # also gets at most accounts.email.PER_ADDRESS links an hour).
    "RATELIMIT_SIGN_IN": "5/minute;50/day",
    "RATELIMIT_LOGIN_IP": "10/minute;100/day",
    # Per account, from anywhere: applies only when the login has no captcha
    # (LOGIN_CAPTCHA_PROVIDER "none"), since it lets anyone lock an account.
    "RATELIMIT_LOGIN_ACCOUNT": "5/minute;50/day",
    # Per account and client address: the owner elsewhere is not affected.
    "RATELIMIT_LOGIN_ACCOUNT_IP": "5/minute;20/day",
    # IPv6 clients are counted per network of this many bits (one subscriber
    # usually holds a /64; some providers hand out a /56 or a /48).
    "RATELIMIT_IPV6_PREFIX": 64,
    # The moderators' login: after LOGIN_CAPTCHA_AFTER wrong passwords for an
    # account within LOGIN_FAILURE_WINDOW seconds, from anywhere, its login needs
    # a captcha. The provider: "none", "altcha" (our own proof of work), "dev"
    # (CAPTCHA_DEV_ENABLED only), "recaptcha_v2", "hcaptcha" or "turnstile"
    # (with a site key and secret); empty means "dev" when the dev provider is
    # enabled, else "altcha".
    "LOGIN_CAPTCHA_PROVIDER": "",
    "LOGIN_CAPTCHA_SITE_KEY": None,
    "LOGIN_CAPTCHA_SECRET": None,
    "LOGIN_CAPTCHA_AFTER": 5,
    "LOGIN_FAILURE_WINDOW": 24 * 3600,
    # Device cookies (OWASP): a browser that logged in as a moderator keeps its
    # own allowance of LOGIN_DEVICE_MAX_FAILURES wrong passwords per
    # LOGIN_FAILURE_WINDOW, untouched by strangers' guesses; the cookie lasts
    # LOGIN_DEVICE_DAYS from the last login.
    # PBKDF2 iterations per try of the "altcha" proof of work (about 256 tries
    # are needed: some 1.3 million iterations, a second or so in a browser).
    "LOGIN_CHALLENGE_COST": 5000,
    "LOGIN_DEVICE_MAX_FAILURES": 10,
    "LOGIN_DEVICE_DAYS": 180,
    # Wrong current passwords on the own-password form, per moderator within
    # LOGIN_FAILURE_WINDOW: at this many, every session of theirs ends.
    "PASSWORD_CHANGE_MAX_FAILURES": 5,
    # argon2's parameters for moderators' passwords (argon2-cffi's profiles):
    # RFC 9106's low-memory one by default; "cheapest" is for test suites only.
    "PASSWORD_HASH_PROFILE": "rfc_9106_low_memory",
    # Akismet (a per-site setting): where to reach it and how long to wait.
    "AKISMET_API_URL": "https://rest.akismet.com",
    "AKISMET_TIMEOUT": 3.0,
    # Logs: JSON lines (or "text"), level, one access line per request.
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO",
    "LOG_ACCESS": True,
    # /metrics: when set, scrapers must send "Authorization: Bearer <token>";
    # without it, only scrapers on these networks (comma-separated) are
    # answered. The database gauges are read at most this often (seconds, for
    # every instance: shared through Redis; 0 reads them on every scrape).
    "METRICS_TOKEN": None,
    "METRICS_ALLOW_NETWORKS": "127.0.0.0/8,::1",
    "METRICS_DATABASE_INTERVAL": 15.0,
    # Days a commenter's IP address is kept (purge-ips erases older ones).
    "IP_RETENTION_DAYS": 90,
    # Proxy hops in front of the app whose X-Forwarded-For may be trusted.
    "TRUSTED_PROXIES": 0,
    # The moderators' session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS.
    "SESSION_COOKIE_NAME": "commentsvc_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    # Webhooks (see docs/webhooks.md): the HTTP timeout of one delivery (to
    # connect, and each wait for the answer); the deadline on a whole attempt
    # (None: the timeout), which a receiver answering a byte at a time cannot
    # stretch; networks and hosts (comma-separated) a delivery may reach although
    # they are private or loopback, for development and tests only; how often an
    # idle worker looks for due deliveries (Redis wakes it sooner); deliveries a
    # worker holds and sends at once; how long a claim lasts (a killed worker's
    # claims run out); the retry delays in seconds (jittered).
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_ATTEMPT_DEADLINE": None,
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "",
    "WEBHOOK_POLL_INTERVAL": 5.0,
    "WEBHOOK_BATCH_SIZE": 50,
    "WEBHOOK_CONCURRENCY": 10,
    "WEBHOOK_LEASE_SECONDS": 60,
    "WEBHOOK_RETRY_DELAYS": "5,300,1800,7200,18000,36000,50400,72000,86400",
    # The learning spam filter (see docs/spam.md): how often an idle training
    # worker looks for new decisions (Redis wakes it sooner), how long it waits
    # after a wake-up so a burst of decisions makes one training, and another
    # starter model's .npy file (its .json beside it) instead of the shipped one.
    "SPAM_POLL_INTERVAL": 5.0,
    "SPAM_TRAIN_SETTLE": 0.5,
    "SPAM_STARTER_MODEL": None,
    # The same for the reject model's starter (commentsvc.rejections).
    "REJECT_STARTER_MODEL": None,
    # Mail (see docs/email.md): the SMTP server as a URL (None: no mail), the
    # From address, and the service's public address that links in mail point
    # to; the SMTP timeout; the worker's lease, batch and poll interval; the
    # retry delays (seconds); how long a moderator's decision link and a
    # reader's confirmation link last; how long an unconfirmed address is kept;
    # how many confirmation mails, and how many "now subscribed to another
    # page" notices, one mailbox (``+tag`` dropped, any case) gets a day.
    "MAIL_URL": None,
    "MAIL_FROM": None,
    "PUBLIC_URL": None,
    "MAIL_TIMEOUT": 10.0,
    "MAIL_LEASE_SECONDS": 120,
    "MAIL_BATCH_SIZE": 20,
    "MAIL_POLL_INTERVAL": 5.0,
    "MAIL_RETRY_DELAYS": "30,120,600,1800,3600,7200,21600,43200,86400",
    "MAIL_LINK_DAYS": 7,
    "MAIL_UNCONFIRMED_DAYS": 7,
    "MAIL_CONFIRMATIONS_PER_DAY": 3,
    "MAIL_NOTICES_PER_DAY": 10,
}

# Settings read from the environment and how to parse them.

PARSERS = {
    "SECRET_KEY": _parse_str,
    "DEV_DEMO": _parse_bool,
    "DATABASE_URL": _parse_str,
    "REDIS_URL": _parse_str,
    "REDIS_KEY_PREFIX": _parse_str,
    "REDIS_SOCKET_TIMEOUT": _parse_number(float, positive=True),
    "REDIS_PROBE_INTERVAL": _parse_number(float, positive=True),
    "DATABASE_CONNECT_TIMEOUT": _parse_number(int, positive=True),
    "DATABASE_POOL_SIZE": _parse_number(int, positive=True),
    "MAX_CONTENT_LENGTH": _parse_number(int),
    "API_CACHE_MAX_AGE": _parse_number(int),
    "UNAVAILABLE_RETRY_AFTER": _parse_number(int),
    "READ_CACHE_TTL": _parse_number(float),
    "READ_CACHE_BYTES": _parse_number(int),
    "LISTING_PAGE_SIZE": _parse_number(int, positive=True),
    "LISTING_REPLIES": _parse_number(int, positive=True),
    "LISTING_REBUILD_WAIT": _parse_number(float),
    "CAPTCHA_RECAPTCHA_VERIFY_URL": _parse_str,
    "CAPTCHA_HCAPTCHA_VERIFY_URL": _parse_str,
    "CAPTCHA_TURNSTILE_VERIFY_URL": _parse_str,
    "CAPTCHA_CONNECT_TIMEOUT": _parse_number(float, positive=True),
    "CAPTCHA_READ_TIMEOUT": _parse_number(float, positive=True),
    "CAPTCHA_DEV_ENABLED": _parse_bool,
    "CAPTCHA_DEV_TOKEN_LIFETIME": _parse_number(int, positive=True),
    "RATELIMIT_ENABLED": _parse_bool,
    "RATELIMIT_POST": _parse_limits,
    "RATELIMIT_POST_ALL_SITES": _parse_limits,
    "RATELIMIT_READ": _parse_limits,
    "RATELIMIT_CAPTCHA": _parse_limits,
    "RATELIMIT_REPORT": _parse_limits,
    "REPORT_CAPTCHA_AFTER": _parse_number(int, positive=True),
    "RATELIMIT_EDIT": _parse_limits,
    "RATELIMIT_SIGN_IN": _parse_limits,
    "RATELIMIT_LOGIN_IP": _parse_limits,
    "RATELIMIT_LOGIN_ACCOUNT": _parse_limits,
    "RATELIMIT_LOGIN_ACCOUNT_IP": _parse_limits,
    "LOGIN_CAPTCHA_PROVIDER": _parse_choice(*LOGIN_CAPTCHA_PROVIDERS),
    "LOGIN_CAPTCHA_SITE_KEY": _parse_str,
    "LOGIN_CAPTCHA_SECRET": _parse_str,
    "LOGIN_CAPTCHA_AFTER": _parse_number(int, positive=True),
    "LOGIN_FAILURE_WINDOW": _parse_number(int, positive=True),
    "LOGIN_CHALLENGE_COST": _parse_number(int, positive=True),
    "LOGIN_DEVICE_MAX_FAILURES": _parse_number(int, positive=True),
    "LOGIN_DEVICE_DAYS": _parse_number(int, positive=True),
    "PASSWORD_CHANGE_MAX_FAILURES": _parse_number(int, positive=True),
    "PASSWORD_HASH_PROFILE": _parse_choice(
        "rfc_9106_low_memory", "rfc_9106_high_memory", "cheapest"
    ),
    "RATELIMIT_IPV6_PREFIX": _parse_ipv6_prefix,
    "AKISMET_API_URL": _parse_str,
    "AKISMET_TIMEOUT": _parse_number(float, positive=True),
    "LOG_FORMAT": _parse_choice("json", "text"),
    "LOG_LEVEL": _parse_choice("DEBUG", "INFO", "WARNING", "ERROR"),
    "LOG_ACCESS": _parse_bool,
    "METRICS_TOKEN": _parse_str,
    "METRICS_ALLOW_NETWORKS": _parse_metrics_networks,
    "METRICS_DATABASE_INTERVAL": _parse_number(float),
    "IP_RETENTION_DAYS": _parse_number(int, positive=True),
    "TRUSTED_PROXIES": _parse_number(int),
    "SESSION_COOKIE_SECURE": _parse_bool,
    "WEBHOOK_TIMEOUT": _parse_number(float, positive=True),
    "WEBHOOK_ATTEMPT_DEADLINE": _parse_number(float, positive=True),
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS": _parse_webhook_allow_list,
    "WEBHOOK_POLL_INTERVAL": _parse_number(float, positive=True),
    "WEBHOOK_BATCH_SIZE": _parse_number(int, positive=True),
    "WEBHOOK_CONCURRENCY": _parse_number(int, positive=True),
    "WEBHOOK_LEASE_SECONDS": _parse_number(int, positive=True),
    "WEBHOOK_RETRY_DELAYS": _parse_webhook_retry_delays,
    "SPAM_POLL_INTERVAL": _parse_number(float, positive=True),
    "SPAM_TRAIN_SETTLE": _parse_number(float),
    "SPAM_STARTER_MODEL": _parse_str,
    "REJECT_STARTER_MODEL": _parse_str,
    "MAIL_URL": _parse_mail_url,
    "MAIL_FROM": _parse_str,
    "PUBLIC_URL": _parse_str,
    "MAIL_TIMEOUT": _parse_number(float, positive=True),
    "MAIL_LEASE_SECONDS": _parse_number(int, positive=True),
    "MAIL_BATCH_SIZE": _parse_number(int, positive=True),
    "MAIL_POLL_INTERVAL": _parse_number(float, positive=True),
    "MAIL_RETRY_DELAYS": _parse_mail_retry_delays,
    "MAIL_LINK_DAYS": _parse_number(int, positive=True),
    "MAIL_UNCONFIRMED_DAYS": _parse_number(int, positive=True),
    "MAIL_CONFIRMATIONS_PER_DAY": _parse_number(int, positive=True),
    "MAIL_NOTICES_PER_DAY": _parse_number(int, positive=True),
}


def from_environment(environ: Mapping[str, str]) -> dict:
    """Return the settings found in *environ* under the ``COMMENTSVC_`` prefix.

    Raises:
        ConfigError: a variable has a value its setting cannot take.
    """
    found = {}
    for name, parser in PARSERS.items():
        raw = environ.get(ENV_PREFIX + name)
        if raw is not None:
            found[name] = parser(name, raw)
    return found


def load(instance_path: str, test_config: Mapping | None = None) -> dict:
    """Build the final configuration.

    Raises:
        ConfigError: a required setting is missing or a value is invalid.
    """
    config = dict(DEFAULTS)
    config.update(from_environment(os.environ))
    if test_config:
        config.update(test_config)

    config["SECRET_KEY"] = secret_key(config)

    config["LOGIN_CAPTCHA_PROVIDER"] = login_captcha_provider(config)
    check_mail(config)

    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = "sqlite:///" + str(
            Path(instance_path) / "commentsvc.sqlite3"
        )
    url = config["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(
            f"{ENV_PREFIX}DATABASE_URL must be a sqlite or postgresql URL"
        )
    config["DATABASE_URL"] = url
    config["SQLALCHEMY_DATABASE_URI"] = url
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(url, config)
    return config

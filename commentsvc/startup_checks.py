"""The settings checked as a whole at start-up (commentsvc.config builds them):
the secret key, the login captcha, mail, and the database engine's options.
Bad configuration fails fast, with a message that names the setting.
"""

import secrets
from collections.abc import Mapping

from .envparse import ENV_PREFIX, ConfigError

# Outside the demo and tests the key must be at least this long; the demo's own
# key is public and accepted only by the demo.
MIN_SECRET_KEY_BYTES = 32
DEMO_SECRET_KEY = "dev-demo-secret-not-for-production"  # noqa: S105


class SecretKeyMissing(ConfigError):
    """Raised when COMMENTSVC_SECRET_KEY is not set outside the demo and tests:
    the first thing a new installation meets, so commands name it on one line."""


LOGIN_CAPTCHA_PROVIDERS = (
    "",
    "none",
    "altcha",
    "dev",
    "recaptcha_v2",
    "hcaptcha",
    "turnstile",
)


def login_captcha_provider(config: Mapping) -> str:
    """The login captcha provider, "auto" resolved.

    Raises:
        ConfigError: it is unknown, "dev" without the dev provider, or a real
            provider without its site key and secret.
    """
    provider = (config["LOGIN_CAPTCHA_PROVIDER"] or "").strip().lower()
    if not provider:
        # The built-in proof of work: no third party, so no keys to configure.
        return "dev" if config["CAPTCHA_DEV_ENABLED"] else "altcha"
    if provider not in LOGIN_CAPTCHA_PROVIDERS:
        raise ConfigError(
            f"{ENV_PREFIX}LOGIN_CAPTCHA_PROVIDER must be one of "
            f"{', '.join(p for p in LOGIN_CAPTCHA_PROVIDERS if p)}"
        )
    if provider == "dev" and not config["CAPTCHA_DEV_ENABLED"]:
        raise ConfigError(
            f"{ENV_PREFIX}LOGIN_CAPTCHA_PROVIDER=dev needs "
            f"{ENV_PREFIX}CAPTCHA_DEV_ENABLED=1 (and is not for production)"
        )
    if provider not in ("none", "altcha", "dev") and not (
        config["LOGIN_CAPTCHA_SITE_KEY"] and config["LOGIN_CAPTCHA_SECRET"]
    ):
        raise ConfigError(
            f"{ENV_PREFIX}LOGIN_CAPTCHA_PROVIDER={provider} needs "
            f"{ENV_PREFIX}LOGIN_CAPTCHA_SITE_KEY and {ENV_PREFIX}LOGIN_CAPTCHA_SECRET"
        )
    return provider


def check_mail(config: Mapping) -> None:
    """Mail needs a valid URL, a From address and the public URL links use.

    Raises:
        ConfigError: one of them is missing or malformed.
    """
    from urllib.parse import urlsplit

    from .mail.settings import parse_mail_url

    if not config["MAIL_URL"]:
        return
    try:
        parse_mail_url(config["MAIL_URL"])
    except ValueError as error:
        raise ConfigError(f"{ENV_PREFIX}MAIL_URL: {error}") from None
    sender = config["MAIL_FROM"] or ""
    if "@" not in sender or any(c in sender for c in "\r\n"):
        raise ConfigError(
            f"{ENV_PREFIX}MAIL_FROM must be the address mail is sent from "
            "(comments@example.com, or 'Example Comments <comments@example.com>')"
        )
    public = urlsplit(config["PUBLIC_URL"] or "")
    if public.scheme not in ("http", "https") or not public.netloc:
        raise ConfigError(
            f"{ENV_PREFIX}PUBLIC_URL must be the service's public address "
            "(https://comments.example.com): links in mail point to it"
        )


def secret_key(config: Mapping) -> str:
    """The key that signs sessions and tokens: at least MIN_SECRET_KEY_BYTES
    outside the demo and tests, and never the demo's own.

    Raises:
        SecretKeyMissing: it is missing outside the demo and tests.
        ConfigError: it is too short, or the demo's key without the demo.
    """
    key = config["SECRET_KEY"]
    demo, testing = bool(config["DEV_DEMO"]), bool(config.get("TESTING"))
    if not key:
        if demo:
            return DEMO_SECRET_KEY
        if testing:
            return secrets.token_urlsafe(MIN_SECRET_KEY_BYTES)
        raise SecretKeyMissing(
            f"{ENV_PREFIX}SECRET_KEY is required (set it to a long random string, "
            f"e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'); "
            f"only the dev demo ({ENV_PREFIX}DEV_DEMO=1) and tests run without it"
        )
    if key == DEMO_SECRET_KEY and not demo:
        # It is in the source: anyone could sign a moderator's session with it.
        raise ConfigError(
            f"{ENV_PREFIX}SECRET_KEY is the demo's published key: set your own"
        )
    if len(key.encode()) < MIN_SECRET_KEY_BYTES and not (demo or testing):
        raise ConfigError(
            f"{ENV_PREFIX}SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes "
            f"(got {len(key.encode())}): a short key can be guessed offline from "
            "one signed cookie"
        )
    return key


def engine_options(url: str, config: Mapping) -> dict:
    # A database error's message names the statement, never its values: they hold
    # secrets (captcha, Akismet, webhooks), emails and IPs, and it gets logged.
    private = {"hide_parameters": True}
    if url.startswith("sqlite"):
        # SQLite serialises writers; wait for the lock rather than fail at once.
        return {**private, "connect_args": {"timeout": 15}}
    return {
        **private,
        # A dropped connection is noticed and replaced: the app recovers from a
        # database restart without being restarted itself.
        "pool_pre_ping": True,
        # At least one connection per serving thread, so none waits or churns.
        "pool_size": config["DATABASE_POOL_SIZE"],
        "max_overflow": config["DATABASE_POOL_SIZE"],
        "connect_args": {"connect_timeout": config["DATABASE_CONNECT_TIMEOUT"]},
    }

"""Reading settings from the environment: one parser per kind of value, each
raising ConfigError with a message that names the setting."""

import math

ENV_PREFIX = "COMMENTSVC_"


class ConfigError(RuntimeError):
    """Raised when the configuration is missing or invalid; the app refuses to start."""


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _BOOL_TRUE:
        return True
    if value in _BOOL_FALSE:
        return False
    raise ConfigError(
        f"{ENV_PREFIX}{name} must be a boolean (1/0, true/false), got {raw!r}"
    )


def _parse_number(kind, positive: bool = False):
    """A parser for a finite number that is not negative (or, if *positive*, is
    above zero: a timeout of 0 means "no timeout" to libpq and "non-blocking" to
    a socket, neither of which anyone means)."""

    def parse(name: str, raw: str):
        try:
            value = kind(raw)
        except ValueError:
            raise ConfigError(
                f"{ENV_PREFIX}{name} must be a {kind.__name__}, got {raw!r}"
            ) from None
        if not math.isfinite(value):
            raise ConfigError(f"{ENV_PREFIX}{name} must be a finite number")
        if value < 0 or (positive and value == 0):
            limit = "above zero" if positive else "not be negative"
            raise ConfigError(f"{ENV_PREFIX}{name} must be {limit}, got {raw!r}")
        return value

    return parse


def _parse_str(name: str, raw: str) -> str:
    return raw


def _parse_choice(*choices: str):
    def parse(name: str, raw: str) -> str:
        for choice in choices:
            if raw.strip().lower() == choice.lower():
                return choice
        raise ConfigError(f"{ENV_PREFIX}{name} must be one of {', '.join(choices)}")

    return parse


def _checked(name: str, raw: str, check) -> str:
    """*raw* if *check* accepts it; its ValueError becomes a ConfigError."""
    try:
        check(raw)
    except ValueError as error:
        raise ConfigError(f"{ENV_PREFIX}{name}: {error}") from None
    return raw


# The checks live with what they configure, imported when the config is read
# (those modules import this one).
def _parse_limits(name: str, raw: str) -> str:
    from .ratelimit import validate_limits

    return _checked(name, raw, validate_limits)


def _parse_webhook_allow_list(name: str, raw: str) -> str:
    from .webhooks.addresses import parse_allow_list

    return _checked(name, raw, parse_allow_list)


def _parse_webhook_retry_delays(name: str, raw: str) -> str:
    from .webhooks.settings import parse_retry_delays

    return _checked(name, raw, parse_retry_delays)


def _parse_mail_url(name: str, raw: str) -> str:
    from .mail.settings import parse_mail_url

    return _checked(name, raw, parse_mail_url)


def _parse_mail_retry_delays(name: str, raw: str) -> str:
    from .mail.settings import parse_retry_delays

    return _checked(name, raw, parse_retry_delays)


def _parse_metrics_networks(name: str, raw: str) -> str:
    from .metrics import parse_networks

    return _checked(name, raw, parse_networks)


def _parse_ipv6_prefix(name: str, raw: str) -> int:
    value = _parse_number(int, positive=True)(name, raw)
    if not 16 <= value <= 128:
        raise ConfigError(f"{ENV_PREFIX}{name} must be from 16 to 128, got {raw!r}")
    return value


# Providers the login form can show (v3 has no checkbox to answer).

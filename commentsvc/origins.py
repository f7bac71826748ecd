"""Web origins (scheme://host[:port]) in one canonical form."""

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str | None:
    """Return ``scheme://host[:port]`` in canonical form, or None if *value* is not
    an http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_of_url(url: str) -> str | None:
    """The canonical origin of the http(s) URL *url*, or None."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host or parts.username or parts.password:
        return None
    host = f"[{host}]" if ":" in host else host
    return normalize_origin(f"{parts.scheme}://{host}" + (f":{port}" if port else ""))

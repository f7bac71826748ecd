"""Cross-origin access: only the origins a site allows, never with credentials."""

from flask import Response, g, request

from ..errors import ApiError
from ..models import Site
from ..origins import normalize_origin


def request_origin() -> str | None:
    return request.headers.get("Origin")


def origin_allowed(site: Site, origin: str, own_url: str | None = None) -> bool:
    """True if *origin* may call the API of *site*: one of its allowed origins, or
    the service's own origin (its demo and moderation pages; *own_url* defaults
    to this request's host URL)."""
    normalized = normalize_origin(origin)
    if normalized is None:
        return False
    if normalized == normalize_origin(own_url or request.host_url):
        return True
    return normalized in (site.allowed_origins or [])


def check_origin(site: Site) -> None:
    """Refuse a request whose Origin header the site does not allow.

    A request without Origin (a server, curl) passes: CORS protects browsers.

    Raises:
        ApiError: 403 ``origin_not_allowed``.
    """
    origin = request_origin()
    if origin is not None and not origin_allowed(site, origin):
        g.cors_origin_refused = True
        raise ApiError(
            403,
            "origin_not_allowed",
            "This site does not allow comments from this origin.",
        )
    g.cors_origin_allowed = True


EXPOSE_HEADERS = (
    "ETag, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
)


def add_cors_headers(response: Response) -> Response:
    """After every API request: let an allowed origin read the response.

    The origin was checked against the site by :func:`check_origin`. An error
    envelope (the database down, an unknown site) is readable by any origin, so
    that an embed can say what went wrong; it holds nothing private and no
    credentials are ever allowed. A refused origin reads nothing at all.
    """
    if not request.path.startswith("/api/"):
        return response
    response.vary.add("Origin")
    origin = request_origin()
    if origin is None:
        return response
    if g.get("cors_origin_allowed"):
        response.headers["Access-Control-Allow-Origin"] = origin
    elif response.status_code >= 400 and not g.get("cors_origin_refused"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        return response
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response


def preflight_response(methods: str = "GET, POST", headers: str = "") -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = methods
    allowed = "Content-Type, If-None-Match" + (f", {headers}" if headers else "")
    response.headers["Access-Control-Allow-Headers"] = allowed
    response.headers["Access-Control-Max-Age"] = "86400"
    return response

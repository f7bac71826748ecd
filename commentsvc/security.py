"""Security headers on every response, and a public API without cookies.

- HTML pages get a nonce-based Content-Security-Policy: a script or stylesheet
  runs only if its tag carries this response's nonce (``csp_nonce()`` in
  templates), nothing may frame the page, forms post to this origin only.
- Every response gets ``X-Content-Type-Options: nosniff`` and a Referrer-Policy;
  HSTS is sent when the request came over HTTPS (behind a trusted proxy,
  ProxyFix tells us).
- ``/api/`` never reads or writes the session cookie and never allows
  credentials: it is public and cross-origin, and its listing is cached by CDNs.
"""

import secrets

from flask import Flask, Request, Response, g, request
from flask.sessions import SessionMixin

# Nothing is allowed unless named: scripts and styles by nonce ('self' is the
# fallback of browsers without 'strict-dynamic'), no plugins, no <base>.
_PAGE_POLICY = (
    "default-src 'none'; "
    "script-src 'self' 'nonce-{nonce}' 'strict-dynamic'; "
    "style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'; "
    "base-uri 'none'; "
    "object-src 'none'"
)
# JSON is never a document: a browser that opens an API URL renders nothing active.
_API_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"

HSTS = "max-age=31536000; includeSubDomains"
# Pages link to the articles comments were posted on: a moderator's queue URL
# (with its filters: an email, an IP) must not leak to them. Not "no-referrer":
# Flask-WTF checks over HTTPS that a form's POST carries a same-origin Referer.
MODERATION_REFERRER_POLICY = "same-origin"
REFERRER_POLICY = "strict-origin-when-cross-origin"


def csp_nonce() -> str:
    """This response's CSP nonce (made on first use), for ``nonce="..."``."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def _is_moderation(path: str) -> bool:
    return path == "/moderation" or path.startswith("/moderation/")


def api_headers(secure: bool) -> list[tuple[str, str]]:
    """The security headers of an /api/ response (the read fast path adds these
    itself; add_security_headers gives every other response the same)."""
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", REFERRER_POLICY),
    ]
    if secure:
        headers.append(("Strict-Transport-Security", HSTS))
    headers.append(("Content-Security-Policy", _API_POLICY))
    return headers


def add_security_headers(response: Response) -> Response:
    """After every request: the headers of the module docstring."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault(
        "Referrer-Policy",
        MODERATION_REFERRER_POLICY if _is_moderation(request.path) else REFERRER_POLICY,
    )
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if _is_api(request.path):
        headers.setdefault("Content-Security-Policy", _API_POLICY)
        headers.pop("Access-Control-Allow-Credentials", None)
        headers.pop("Set-Cookie", None)
    elif response.mimetype == "text/html":
        policy = _PAGE_POLICY.format(nonce=csp_nonce())
        # A page showing a captcha provider's widget lets its frames in.
        if g.get("csp_frame_src"):
            policy += f"; frame-src {g.csp_frame_src}"
        if g.get("csp_worker_src"):
            policy += f"; worker-src {g.csp_worker_src}"
        # A page whose form's answer redirects to another origin (an e-mail
        # sign-in back to the article): browsers check form-action on the
        # redirect too.
        if g.get("csp_form_action"):
            policy = policy.replace(
                "form-action 'self'", f"form-action 'self' {g.csp_form_action}"
            )
        headers["Content-Security-Policy"] = policy
        headers.setdefault("X-Frame-Options", "DENY")
    return response


class CookielessApiSessions:
    """Wraps the app's session interface: an ``/api/`` request gets an empty
    session that is never saved, so the API neither reads a moderator's session
    cookie nor sets one (nor adds ``Vary: Cookie`` to a cacheable listing).
    Everything else is the wrapped interface's."""

    def __init__(self, wrapped):
        self.wrapped = wrapped

    def __getattr__(self, name):
        return getattr(self.wrapped, name)

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if _is_api(request.path):
            return self.wrapped.session_class()
        return self.wrapped.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response) -> None:
        if _is_api(request.path):
            return
        self.wrapped.save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Add the headers to every response of *app*, give its templates
    ``csp_nonce()``, and keep sessions away from the API. Call after the
    extensions are bound (it wraps their session interface)."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.session_interface = CookielessApiSessions(app.session_interface)
    app.after_request(add_security_headers)

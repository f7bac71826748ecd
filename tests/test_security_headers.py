"""Security headers: a nonce-based CSP on every HTML page, nosniff and a
Referrer-Policy everywhere, HSTS over HTTPS only, and a public API that never
sets a cookie nor allows credentials."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from crawl import crawl, log_in
from factories import ORIGIN, comment_payload, make_comment, make_site
from flask import request, session

from commentsvc import PROJECT_ROOT
from commentsvc.models import CommentStatus, Role
from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"
TEMPLATES = Path(PROJECT_ROOT) / "templates"
API = "/api/v1/sites/news"


@pytest.fixture
def backend(database_urls):
    """Overrides the parametrized fixture: headers do not depend on the database."""
    return "sqlite" if "sqlite" in database_urls else next(iter(database_urls))


@pytest.fixture
def seeded(app):
    """Site 'news' with a published and a pending comment; 'boss' is an admin."""
    with app.app_context():
        news = make_site()
        make_comment(news)
        make_comment(news, status=CommentStatus.PENDING, email="ann@example.org")
        create_moderator("boss", PASSWORD, role=Role.ADMIN)
    return app


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def assert_page_is_locked_down(headers: dict, html: str) -> None:
    """The page's CSP is nonce-based and strict, and every script and stylesheet
    in it carries that nonce; nothing inline would run."""
    policy = headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    parsed = {p.split()[0]: p.split()[1:] for p in policy.split(";")}
    assert parsed["script-src"] == ["'self'", f"'nonce-{nonce}'", "'strict-dynamic'"]
    assert parsed["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert parsed["default-src"] == ["'none'"]
    assert parsed["object-src"] == ["'none'"]
    assert parsed["base-uri"] == ["'none'"]
    assert parsed["form-action"] == ["'self'"]
    assert parsed["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    for tag, attrs in tags(html):
        if tag in ("script", "style") or (
            tag == "link" and attrs.get("rel") == "stylesheet"
        ):
            assert attrs.get("nonce") == nonce, (tag, attrs)
        if tag == "script":
            assert attrs.get("src"), "an inline script"
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert "style" not in attrs, (tag, attrs)
        for name in ("href", "src", "action", "formaction"):
            assert (
                not (attrs.get(name) or "")
                .strip()
                .lower()
                .startswith(("javascript:", "data:", "vbscript:"))
            ), (tag, attrs)


# --- CSP --------------------------------------------------------------------------


def test_templates_hold_no_inline_script_style_or_handler():
    for path in TEMPLATES.rglob("*.html"):
        if path.parent == TEMPLATES / "mail":
            # Mail, not pages: no CSP applies, and mail clients drop <style>
            # and external sheets, so its styles are inline by necessity. The
            # pages its links open (mail/pages/) are checked like the rest.
            continue
        source = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<(script|style|link)\b[^>]*>", source):
            tag = match.group(0)
            if match.group(1) == "link" and 'rel="stylesheet"' not in tag:
                continue
            assert 'nonce="{{ csp_nonce() }}"' in tag, (path.name, tag)
            if match.group(1) == "script":
                assert " src=" in tag, (path.name, tag)
        assert "<style" not in source, path.name
        assert not re.search(r"\son[a-z]+\s*=", source), path.name
        assert not re.search(r"\sstyle\s*=", source), path.name
        assert "javascript:" not in source.lower(), path.name


def test_every_moderation_page_has_a_nonce_csp_that_its_tags_carry(seeded):
    client = log_in(seeded, "boss", PASSWORD)

    visits = crawl(client)

    paths = {visit.url.split("?")[0] for visit in visits}
    assert {
        "/moderation/queue",
        "/moderation/bans",
        "/moderation/audit",
        "/moderation/sites",
        "/moderation/sites/news/settings",
        "/moderation/moderators",
        "/moderation/webhooks/",
    } <= paths
    nonces = set()
    for visit in visits:
        assert visit.status == 200, visit.url
        assert_page_is_locked_down(visit.headers, visit.body)
        nonces.add(
            re.search(r"'nonce-([^']+)'", visit.headers["Content-Security-Policy"])
        )
    # A fresh nonce for every response.
    assert len({n.group(1) for n in nonces}) == len(visits)


@pytest.mark.parametrize("path", ["/", "/moderation/login", "/no/such/page"])
def test_other_html_pages_are_locked_down_too(seeded, path):
    response = seeded.test_client().get(path)

    assert response.mimetype == "text/html"
    assert_page_is_locked_down(response.headers, response.get_data(as_text=True))


def test_the_login_page_loads_its_assets_with_the_nonce(client):
    response = client.get("/moderation/login")

    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert f'moderation.js" defer nonce="{nonce.group(1)}"' in html
    assert f'moderation.css" nonce="{nonce.group(1)}"' in html


def test_api_responses_are_never_documents(seeded):
    response = seeded.test_client().get(f"{API}/comments?thread=/article")

    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'; sandbox"
    )


def test_embed_js_stays_loadable_by_any_page(client):
    response = client.get("/embed.js")

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Cross-Origin-Resource-Policy" not in response.headers
    assert "Content-Security-Policy" not in response.headers


# --- nosniff, Referrer-Policy, HSTS ------------------------------------------------


@pytest.mark.parametrize(
    "method, path, kwargs",
    [
        ("get", "/", {}),
        ("get", "/healthz", {}),
        ("get", "/readyz", {}),
        ("get", "/embed.js", {}),
        ("get", "/static/moderation.js", {}),
        ("get", "/static/moderation.css", {}),
        ("get", "/moderation/login", {}),
        ("get", "/moderation/queue", {}),  # a redirect to the login
        ("get", "/no/such/page", {}),
        ("get", f"{API}/comments?thread=/article", {}),
        ("get", f"{API}/comments", {}),  # 422
        ("get", "/api/v1/sites/nope/comments?thread=/a", {}),  # 404
        ("delete", f"{API}/comments", {}),  # 405
        ("post", f"{API}/comments", {"data": "{"}),  # 415
        ("post", f"{API}/comments", {"json": comment_payload()}),  # 202
        ("options", f"{API}/comments", {"headers": {"Origin": ORIGIN}}),  # 204
        ("post", f"{API}/form-token", {}),
        ("get", "/api/v1/openapi.json", {}),
    ],
)
def test_every_response_has_nosniff_and_a_referrer_policy(seeded, method, path, kwargs):
    # (A context manager: a static file's response holds the file open.)
    with getattr(seeded.test_client(), method)(path, **kwargs) as response:
        headers = response.headers

    assert headers["X-Content-Type-Options"] == "nosniff"
    expected = (
        "same-origin"
        if path.startswith("/moderation")
        else "strict-origin-when-cross-origin"
    )
    assert headers["Referrer-Policy"] == expected
    assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_a_304_keeps_nosniff(seeded):
    client = seeded.test_client()
    first = client.get(f"{API}/comments?thread=/article")

    again = client.get(
        f"{API}/comments?thread=/article",
        headers={"If-None-Match": first.headers["ETag"]},
    )

    assert again.status_code == 304
    assert again.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/", "/moderation/login", f"{API}/comments?thread=/a"]
)
def test_hsts_over_https_only(seeded, path):
    client = seeded.test_client()

    secure = client.get(path, base_url="https://comments.example")
    plain = client.get(path, base_url="http://comments.example")

    assert secure.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )
    assert "Strict-Transport-Security" not in plain.headers


def test_hsts_behind_a_trusted_proxy_that_terminated_tls(make_app):
    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    direct = make_app().test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}

    assert "Strict-Transport-Security" in proxied.get("/", headers=forwarded).headers
    # Without trusted hops, a client cannot claim HTTPS.
    assert "Strict-Transport-Security" not in direct.get("/", headers=forwarded).headers


def test_moderation_forms_still_post_over_https(seeded):
    # Flask-WTF checks a same-origin Referer on HTTPS POSTs; the moderation
    # Referrer-Policy ("same-origin") keeps sending it.
    client = log_in(seeded, "boss", PASSWORD, base_url="https://comments.example")

    response = client.get("/moderation/queue", base_url="https://comments.example")

    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "same-origin"


# --- the public API: no cookies, no credentials -------------------------------------


def _api_requests():
    origin = {"Origin": ORIGIN}
    return [
        ("get", f"{API}/comments?thread=/article", {"headers": origin}),
        ("get", f"{API}/comments", {"headers": origin}),
        ("post", f"{API}/comments", {"json": comment_payload(), "headers": origin}),
        ("post", f"{API}/comments", {"json": {"body": ""}, "headers": origin}),
        ("post", f"{API}/comments", {"data": "nope", "headers": origin}),
        ("options", f"{API}/comments", {"headers": origin}),
        ("post", f"{API}/form-token", {"headers": origin}),
        ("post", f"{API}/captcha/dev-token", {"headers": origin}),
        ("get", "/api/v1/sites/nope/comments?thread=/a", {"headers": origin}),
        ("put", f"{API}/comments", {"headers": origin}),
        ("get", "/api/v1/nothing-here", {}),
        ("get", "/api/v1/openapi.json", {"headers": origin}),
    ]


def _assert_no_cookie_no_credentials(response) -> None:
    assert "Set-Cookie" not in response.headers, response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Cookie" not in response.vary


def test_the_api_sets_no_cookie_even_for_a_logged_in_moderator(seeded):
    # A moderator's browser sends its session cookie to the API too (same site).
    client = log_in(seeded, "boss", PASSWORD, base_url="https://comments.example")
    cookie = seeded.config["SESSION_COOKIE_NAME"]
    assert client.get_cookie(cookie, domain="comments.example") is not None

    for method, path, kwargs in _api_requests():
        response = getattr(client, method)(
            path, base_url="https://comments.example", **kwargs
        )
        assert response.status_code < 500, path
        _assert_no_cookie_no_credentials(response)


def test_the_cacheable_listing_does_not_vary_by_cookie(seeded):
    # Flask-Login reads the session after every request, and Flask 3.1 then adds
    # "Vary: Cookie": a CDN would keep one copy per reader, or none at all.
    response = seeded.test_client().get(
        f"{API}/comments?thread=/article", headers={"Origin": ORIGIN}
    )

    assert response.status_code == 200
    assert set(response.vary) == {"Origin"}


def test_the_api_ignores_a_session_cookie(seeded):
    seen = []

    @seeded.before_request
    def spy():
        if request.path.startswith("/api/"):
            seen.append(dict(session))

    client = log_in(seeded, "boss", PASSWORD)
    client.get(f"{API}/comments?thread=/article")

    assert seen == [{}]


def test_a_view_that_touches_the_session_under_api_still_sets_no_cookie(make_app):
    app = make_app()

    def touch():
        session["visited"] = True
        session.permanent = True
        return {"ok": True}

    app.add_url_rule("/api/v1/touch", view_func=touch, endpoint="touch_api")
    app.add_url_rule("/touch", view_func=touch, endpoint="touch_page")
    client = app.test_client()

    response = client.get("/api/v1/touch", headers={"Origin": ORIGIN})

    assert response.status_code == 200
    _assert_no_cookie_no_credentials(response)
    # Outside /api/ the same view's session is saved: the exception is that narrow.
    assert "Set-Cookie" in client.get("/touch").headers


def test_cors_never_allows_credentials(seeded):
    client = seeded.test_client()
    for origin in (ORIGIN, "https://evil.example", "null"):
        for method, path, kwargs in _api_requests():
            headers = {**kwargs.get("headers", {}), "Origin": origin}
            response = getattr(client, method)(path, **{**kwargs, "headers": headers})
            assert "Access-Control-Allow-Credentials" not in response.headers
            assert response.headers.get("Access-Control-Allow-Origin") in (
                None,
                "*",
                ORIGIN,
            )

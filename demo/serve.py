"""Serve the demo article: a news page on its own origin that embeds the comment
service's script, as a real site's page would. Started by ``./scripts/demo``.

The page is sent with a strict Content-Security-Policy (no inline scripts or
styles), the one docs/embed.md tells sites to use, so the demo proves it works.
"""

import argparse
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template

import jwt

HERE = Path(__file__).resolve().parent
ARTICLE_PATH = "/2026/11/the-library-that-never-sleeps/"
# The same article as a subscriber of Demo News sees it, signed in with the
# site's own account (docs/sso.md): the page carries a token signed for them.
SUBSCRIBER_PATH = "/subscriber" + ARTICLE_PATH
SUBSCRIBER = {"sub": "demo-subscriber-1", "name": "Dana Subscriber"}
# A site token lives minutes: the page is signed anew on every load.
TOKEN_SECONDS = 600


def subscriber_token(secret: str, site: str) -> str:
    """What a news site's server does for its logged-in reader (docs/sso.md)."""
    now = int(time.time())
    claims = {**SUBSCRIBER, "aud": site, "iat": now, "exp": now + TOKEN_SECONDS}
    return jwt.encode(claims, secret, algorithm="HS256")


def content_security_policy(service: str) -> str:
    """The policy a page embedding *service* with the dev captcha needs."""
    return (
        f"default-src 'self'; script-src 'self' {service}; connect-src {service}; "
        "style-src 'self'; img-src 'self' data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def article(service: str, site: str, sso_token: str = "") -> bytes:
    """The article page; with *sso_token*, as its subscriber sees it."""
    if sso_token:
        sso = f' data-commentsvc-sso="{sso_token}"'
        view = (
            f'<p class="note">You are reading as {SUBSCRIBER["name"]}, a subscriber '
            "signed in to Demo News: the comment form needs no name, e-mail or "
            f'captcha. <a href="{ARTICLE_PATH}">Read as a guest</a>.</p>'
        )
    else:
        sso = ""
        view = (
            '<p class="note">Try the site\'s own accounts: <a href="'
            f'{SUBSCRIBER_PATH}">read this page as a signed-in subscriber</a>.</p>'
        )
    return (
        Template((HERE / "article.html").read_text())
        .substitute(
            service=service,
            site=site,
            article_path=ARTICLE_PATH,
            sso_attribute=sso,
            reader_view=view,
        )
        .encode()
    )


def pages(service: str, site: str) -> dict[str, tuple[str, bytes]]:
    """Path -> (content type, body) of the demo origin's fixed pages."""
    return {
        ARTICLE_PATH: ("text/html; charset=utf-8", article(service, site)),
        "/style.css": ("text/css; charset=utf-8", (HERE / "style.css").read_bytes()),
    }


def make_server(
    host: str, port: int, service: str, site: str, sso_secret: str = ""
) -> ThreadingHTTPServer:
    served = pages(service.rstrip("/"), site)
    policy = content_security_policy(service.rstrip("/"))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self._serve(with_body=True)

        def do_HEAD(self):
            self._serve(with_body=False)

        def _serve(self, with_body: bool) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                self.send_response(302)
                self.send_header("Location", ARTICLE_PATH)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path == SUBSCRIBER_PATH and sso_secret:
                token = subscriber_token(sso_secret, site)
                content_type = "text/html; charset=utf-8"
                body = article(service.rstrip("/"), site, token)
            elif path in served:
                content_type, body = served[path]
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", policy)
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--service", default="http://127.0.0.1:8000")
    parser.add_argument("--site", default="demo")
    parser.add_argument(
        "--sso-secret",
        # From the environment by default: a command line shows in `ps`.
        default=os.environ.get("COMMENTSVC_DEMO_SSO_SECRET", ""),
        help="sign the subscriber page's token with it",
    )
    args = parser.parse_args()
    server = make_server(args.host, args.port, args.service, args.site, args.sso_secret)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

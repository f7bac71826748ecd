"""Serve the demo article: a news page on its own origin that embeds the comment
service's script, as a real site's page would. Started by ``./scripts/demo``.

The page is sent with a strict Content-Security-Policy (no inline scripts or
styles), the one docs/embed.md tells sites to use, so the demo proves it works.
"""

import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
ARTICLE_PATH = "/2026/11/the-library-that-never-sleeps/"


def content_security_policy(service: str) -> str:
    """The policy a page embedding *service* with the dev captcha needs."""
    return (
        f"default-src 'self'; script-src 'self' {service}; connect-src {service}; "
        "style-src 'self'; img-src 'self' data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def pages(service: str, site: str) -> dict[str, tuple[str, bytes]]:
    """Path -> (content type, body) of everything the demo origin serves."""
    article = Template((HERE / "article.html").read_text()).substitute(
        service=service, site=site, article_path=ARTICLE_PATH
    )
    return {
        ARTICLE_PATH: ("text/html; charset=utf-8", article.encode()),
        "/style.css": ("text/css; charset=utf-8", (HERE / "style.css").read_bytes()),
    }


def make_server(host: str, port: int, service: str, site: str) -> ThreadingHTTPServer:
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
            if path not in served:
                self.send_error(404)
                return
            content_type, body = served[path]
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
    args = parser.parse_args()
    server = make_server(args.host, args.port, args.service, args.site)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

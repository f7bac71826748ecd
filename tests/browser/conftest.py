"""Browser tests: Playwright driving Debian's Chromium (headless, never a browser
Playwright downloads) against the app served over real HTTP on one origin, and
test article pages served by a second small server on another origin.

They run on one database backend (SQLite when it is configured): what they test
happens in the browser, and a second backend would only double their time.
"""

import contextlib
import html
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler

import pytest
from playwright import sync_api
from servers import InBackground, loopback_http
from timing import generous
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Playwright's own defaults (5 s for an expect, 30 s for an action or a
# navigation) are bounds on how long a failing run takes, not on how fast the
# page must be: a busy machine gets more (tests/timing.py). A working run waits
# only as long as it needs.
EXPECT_TIMEOUT_MS = generous(10_000)
ACTION_TIMEOUT_MS = generous(30_000)


@pytest.fixture
def backend(database_urls):
    """Overrides the parametrized fixture: one backend for the browser tests."""
    return "sqlite" if "sqlite" in database_urls else next(iter(database_urls))


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        # A failure, not a skip: a suite that silently drops its browser tests
        # would pass without testing what readers see.
        pytest.fail(
            "chromium is not installed: run ./scripts/test as root (it installs "
            "Debian's chromium), or `apt-get install -y chromium`"
        )
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=ACTION_TIMEOUT_MS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page in a fresh context: its own localStorage and HTTP cache."""
    context = browser.new_context()
    # Actions, waits for a URL, a load state or a function, and navigations.
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


class ServiceServer:
    """The app over real HTTP (like conftest's LiveServer) that can be stopped
    and started again on the same port.

    :meth:`stop` closes the listener *and* every open connection, as a crashed
    service would: werkzeug's threaded server otherwise keeps serving the
    browser's keep-alive connections after shutdown.
    """

    def __init__(self, app):
        self.app = app
        self.port = 0
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServiceServer":
        server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = server.server_port
        connections = []
        accept = server.process_request

        def track(request, client_address):
            connections.append(request)
            accept(request, client_address)

        server.process_request = track
        thread = threading.Thread(target=server.serve_forever, args=(0.05,))
        thread.daemon = True
        thread.start()
        self._server = (server, thread, connections)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        server, thread, connections = self._server
        self._server = None
        server.shutdown()
        server.server_close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        thread.join(5)


@pytest.fixture
def service(make_app):
    """``service(**config)``: build an app with *config* and serve it."""
    servers = []

    def start(**config) -> ServiceServer:
        server = ServiceServer(make_app(**config)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class ArticleServer(InBackground):
    """A news site on an origin of its own: serves the pages a test adds."""

    def __init__(self):
        self.pages = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?", 1)[0]
                if path not in pages:
                    self.send_error(404)
                    return
                body, headers = pages[path]
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._serve(loopback_http(Handler))
        self.origin = f"http://127.0.0.1:{self.port}"

    def add(
        self,
        service: ServiceServer,
        site: str,
        path: str = "/article",
        attributes: dict | None = None,
        head: str = "",
        headers: dict | None = None,
    ) -> str:
        """Serve an article at *path* that embeds *service*'s script for *site*;
        return its URL."""
        attrs = {"data-commentsvc-site": site, **(attributes or {})}
        markup = " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>An article</title>
<link rel="icon" href="data:,">{head}</head>
<body><h1>An article</h1><p>Some news.</p>
<div id="comments" {markup}></div>
<script src="{service.url}/embed.js" async></script>
</body></html>"""
        self.pages[path.split("?", 1)[0]] = (page.encode(), headers or {})
        return self.origin + path


@pytest.fixture
def article():
    with ArticleServer() as server:
        yield server

"""A real local HTTP stand-in for Akismet's REST API (comment-check,
submit-spam, submit-ham), recording what it was sent."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from servers import InBackground, loopback_http

KEY = "standin-akismet-key"
THANKS = "Thanks for making the web a better place."


@dataclass
class AkismetStandIn(InBackground):
    """``with AkismetStandIn() as akismet:``; content with "viagra" is spam."""

    mode: str = "normal"  # normal | hang | error500
    received: list = field(default_factory=list)

    def __post_init__(self):
        self._release = threading.Event()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                standin._handle(self)

            def log_message(self, *args):
                pass

        self._serve(loopback_http(Handler))
        self.url = f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self._release.set()  # a hanging answer ends
        super().__exit__(*exc)

    def calls(self, endpoint: str) -> list[dict]:
        return [form for path, form in self.received if path.endswith(endpoint)]

    def _handle(self, request):
        length = int(request.headers.get("Content-Length") or 0)
        form = {
            k: v[0]
            for k, v in parse_qs(request.rfile.read(length).decode("utf-8")).items()
        }
        self.received.append((request.path, form))
        if self.mode == "hang":
            self._release.wait(30)
            return
        if self.mode == "error500":
            return self._reply(request, 500, "trouble")
        if request.path.endswith("/verify-key"):
            return self._reply(
                request, 200, "valid" if form.get("key") == KEY else "invalid"
            )
        if form.get("api_key") != KEY:
            return self._reply(request, 200, "invalid")
        if request.path.endswith("/comment-check"):
            spam = "viagra" in form.get("comment_content", "").lower()
            return self._reply(request, 200, "true" if spam else "false")
        return self._reply(request, 200, THANKS)

    @staticmethod
    def _reply(request, status: int, text: str) -> None:
        body = text.encode()
        request.send_response(status)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

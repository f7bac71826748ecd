"""A webhook receiver that answers one byte at a time: the slowloris of
receivers. Each byte arrives well within any per-read timeout, so only a
deadline on the whole attempt ends the wait."""

import threading
import time
from http.server import BaseHTTPRequestHandler

from servers import InBackground, loopback_http

# Long enough that, dripped, it outlasts any test: only a deadline ends it.
_FILLER = b"x" * 600


class DripReceiver(InBackground):
    """``with DripReceiver(part="headers") as r:`` serves on ``r.url``.

    *part* is what trickles: ``"headers"`` from the status line on, or
    ``"body"`` after headers sent at once (a Content-Length the drip never
    fulfils). While :attr:`dripping` is cleared it answers 200 at once.
    ``r.ids`` lists the webhook-id of every request, in order of arrival.
    """

    def __init__(self, part: str = "headers", interval: float = 1.0):
        self.part = part
        self.interval = interval
        self.dripping = threading.Event()
        self.dripping.set()
        self.closing = threading.Event()
        self.lock = threading.Lock()
        self.ids: list[str] = []
        self.arrived: list[float] = []  # time.monotonic() of each request
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # or the bytes would be coalesced

            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.ids.append(self.headers.get("webhook-id", ""))
                    receiver.arrived.append(time.monotonic())
                self.close_connection = True
                try:
                    if receiver.dripping.is_set():
                        receiver._drip(self.wfile)
                    else:
                        self.wfile.write(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                            b"Connection: close\r\n\r\nok"
                        )
                except OSError:  # the sender gave up: what a deadline does
                    pass

            def log_message(self, *args):
                pass

        self._serve(loopback_http(Handler))
        self.url = f"http://127.0.0.1:{self.port}/hooks/comments"

    def _drip(self, out) -> None:
        body = b"ok" + _FILLER
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        if self.part == "body":
            out.write(head)
            answer = body
        else:
            answer = head + body
        for index in range(len(answer)):
            if self.closing.wait(self.interval):
                return
            out.write(answer[index : index + 1])

    def count(self) -> int:
        with self.lock:
            return len(self.ids)

    def __exit__(self, *exc):
        self.closing.set()
        super().__exit__(*exc)

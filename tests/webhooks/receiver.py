"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 that checks
every request's Standard Webhooks signature with the ``standardwebhooks``
library, records what arrived and answers as the test tells it to."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from servers import InBackground, loopback_http
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    # The secrets (of those the receiver knows) whose signature verified.
    verified_with: list[str] = field(default_factory=list)

    @property
    def message_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    @property
    def signatures(self) -> list[str]:
        return self.headers.get("webhook-signature", "").split()


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "ok"
    delay: float = 0.0


class Receiver(InBackground):
    """``with Receiver(secrets) as r:`` serves on ``r.url``; ``r.answer`` maps
    the n-th request (0-based) and what arrived to an :class:`Answer`."""

    def __init__(self, secrets=(), answer=None, path="/hooks/comments"):
        self.secrets = list(secrets)
        self.answer = answer or (lambda n, received: Answer())
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.path = path
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # as real servers do

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender died mid-request (a worker killed by a fault
                    # test): a real receiver never sees a cut body as a
                    # delivery, and it would not parse as JSON.
                    self.close_connection = True
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                received = Received(self.path, headers, body)
                for secret in receiver.secrets:
                    try:
                        Webhook(secret).verify(body, headers)
                    except (WebhookVerificationError, ValueError):
                        continue
                    received.verified_with.append(secret)
                with receiver.lock:
                    n = len(receiver.received)
                    receiver.received.append(received)
                answer = receiver.answer(n, received)
                if answer.delay:
                    time.sleep(answer.delay)
                data = answer.body.encode()
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the sender gave up (a timeout test)
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self._serve(loopback_http(Handler))
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + path

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def ids(self) -> list[str]:
        return [r.message_id for r in self.requests()]

"""A real SMTP server for tests: aiosmtpd on a free port, keeping every
message it accepts."""

import email
import email.policy
import threading

from aiosmtpd.controller import Controller
from tcpproxy import free_port


class SmtpSink:
    """aiosmtpd keeping every message it accepts; stop() and start() again on
    the same port play an SMTP server that goes down and comes back."""

    def __init__(self):
        self.port = free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        with self.lock:
            self.messages.append(message)
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

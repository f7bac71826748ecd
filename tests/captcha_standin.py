"""A real local HTTP stand-in for the captcha providers' siteverify endpoints.

It behaves like reCAPTCHA v2/v3, hCaptcha and Turnstile: tokens it issues live
the provider's lifetime and are good once; expiry and reuse come back with each
provider's own error codes. Modes make it hang, answer 500 or answer garbage.
It records every token it was sent, so a test can prove none was sent twice.
"""

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from servers import InBackground, loopback_http

LIFETIMES = {
    "recaptcha_v2": 120,
    "recaptcha_v3": 120,
    "hcaptcha": 120,
    "turnstile": 300,
}
PATHS = {
    "recaptcha": "/recaptcha/api/siteverify",
    "hcaptcha": "/hcaptcha/siteverify",
    "turnstile": "/turnstile/v0/siteverify",
}
SECRET = "standin-secret"


@dataclass
class Issued:
    provider: str
    hostname: str
    action: str | None
    score: float | None
    issued_at: float
    used: bool = False


@dataclass
class CaptchaStandIn(InBackground):
    """Start with ``with CaptchaStandIn() as standin:``; see :meth:`url`."""

    mode: str = "normal"  # normal | any | hang | error500 | garbage
    secret: str = SECRET
    tokens: dict = field(default_factory=dict)
    received: list = field(default_factory=list)
    # hCaptcha's: the site key each token was issued for (a "sitekey" field in
    # the verification must match it, as the real service checks).
    sitekeys: dict = field(default_factory=dict)
    clock_offset: float = 0.0

    def __post_init__(self):
        self._lock = threading.Lock()
        self._release = threading.Event()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as the real services offer, and no Nagle delay on
            # the small answers (it would add ~40 ms to every verification).
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):
                standin._handle(self)

            def log_message(self, *args):
                pass

        self._serve(loopback_http(Handler))

    def __exit__(self, *exc):
        self._release.set()  # a hanging answer ends
        super().__exit__(*exc)

    def url(self, family: str) -> str:
        """The siteverify URL of *family*: recaptcha, hcaptcha or turnstile."""
        return f"http://127.0.0.1:{self.port}{PATHS[family]}"

    def config(self) -> dict:
        """App settings that point every provider at this stand-in."""
        return {
            "CAPTCHA_RECAPTCHA_VERIFY_URL": self.url("recaptcha"),
            "CAPTCHA_HCAPTCHA_VERIFY_URL": self.url("hcaptcha"),
            "CAPTCHA_TURNSTILE_VERIFY_URL": self.url("turnstile"),
        }

    def issue(self, provider, hostname="news.example", action="comment", score=0.9):
        """A token as the provider's widget would hand it to the embed."""
        token = f"{provider}-{secrets.token_urlsafe(16)}"
        with self._lock:
            self.tokens[token] = Issued(provider, hostname, action, score, self.now())
        return token

    def now(self) -> float:
        return time.monotonic() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Let time pass for the tokens, without sleeping."""
        self.clock_offset += seconds

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode("utf-8", "replace")
        # Like the real services, only form fields count: a JSON body looks like
        # a request with no token at all.
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        token = form.get("response")
        with self._lock:
            if token:
                self.received.append(token)
        if self.mode == "hang":
            self._release.wait(30)
            return
        if self.mode == "error500":
            self._reply(request, 500, b"upstream trouble")
            return
        if self.mode == "garbage":
            self._reply(request, 200, b"<html>not json</html>")
            return
        family = next(f for f, p in PATHS.items() if request.path == p)
        answer = self._verify(family, form)
        self._reply(request, 200, json.dumps(answer).encode())

    def _verify(self, family: str, form: dict) -> dict:
        hcaptcha = family == "hcaptcha"
        if not form.get("secret"):
            return {"success": False, "error-codes": ["missing-input-secret"]}
        if form["secret"] != self.secret:
            return {"success": False, "error-codes": ["invalid-input-secret"]}
        token = form.get("response")
        if not token:
            return {"success": False, "error-codes": ["missing-input-response"]}
        with self._lock:
            issued = self.tokens.get(token)
            if issued is None and self.mode == "any" and token.startswith("any-"):
                # Benchmarks: a client mints its own tokens; each is still
                # good once and checked over real HTTP.
                issued = self.tokens[token] = Issued(
                    f"{family}_v3" if family == "recaptcha" else family,
                    "news.example",
                    "comment",
                    0.9,
                    self.now(),
                )
            if issued is None or not issued.provider.startswith(family):
                return {"success": False, "error-codes": ["invalid-input-response"]}
            if issued.used:
                code = "already-seen-response" if hcaptcha else "timeout-or-duplicate"
                return {"success": False, "error-codes": [code]}
            issued.used = True
            if self.now() - issued.issued_at > LIFETIMES[issued.provider]:
                code = "expired-input-response" if hcaptcha else "timeout-or-duplicate"
                return {"success": False, "error-codes": [code]}
        wanted = self.sitekeys.get(token)
        if hcaptcha and wanted and form.get("sitekey") != wanted:
            # Solved on a widget of another site key than the one expected.
            return {"success": False, "error-codes": ["invalid-input-response"]}
        answer = {
            "success": True,
            "challenge_ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "error-codes": [],
        }
        if issued.hostname is not None:  # some answers name none
            answer["hostname"] = issued.hostname
        if issued.provider == "recaptcha_v3":
            answer.update(score=issued.score, action=issued.action)
        elif issued.provider == "turnstile":
            answer.update(action=issued.action, cdata="")
        elif hcaptcha:
            answer["credit"] = False
        return answer

    @staticmethod
    def _reply(request, status: int, body: bytes) -> None:
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

"""Servers a test starts itself, on ports of its own: gunicorn running the app,
a throwaway redis-server, and in-process HTTP stand-ins. Never the shared
PostgreSQL or Redis."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import redis
import requests
from tcpproxy import free_port

ROOT = Path(__file__).resolve().parent.parent


class InBackground:
    """Serves ``self.server`` (set by :meth:`_serve`) from a daemon thread
    between ``__enter__`` and ``__exit__``."""

    def _serve(self, server) -> None:
        self.server = server
        self.port = server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def loopback_http(handler) -> ThreadingHTTPServer:
    """A threaded HTTP server for *handler* on a free 127.0.0.1 port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    return server


def wait_until(check, timeout: float = 15.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(interval)


def app_environment(app) -> dict:
    """COMMENTSVC_* variables that give a separate process the same settings
    (database, Redis, prefix, limits, captcha) as the test's *app*."""
    env = dict(os.environ)
    for name in (
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "REDIS_KEY_PREFIX",
        "RATELIMIT_POST",
        "RATELIMIT_POST_ALL_SITES",
        "RATELIMIT_READ",
        "RATELIMIT_CAPTCHA",
        "PASSWORD_HASH_PROFILE",
        "TRUSTED_PROXIES",
        "CAPTCHA_DEV_ENABLED",
        "CAPTCHA_RECAPTCHA_VERIFY_URL",
        "CAPTCHA_HCAPTCHA_VERIFY_URL",
        "CAPTCHA_TURNSTILE_VERIFY_URL",
    ):
        value = app.config[name]
        env[f"COMMENTSVC_{name}"] = (
            ("1" if value else "0") if isinstance(value, bool) else str(value)
        )
    return env


class Gunicorn:
    """``gunicorn wsgi:app`` with *workers* processes on a free port."""

    def __init__(self, env: dict, workers: int = 1, threads: int = 4, log_path=None):
        self.log_path = log_path  # the app's log lines (stderr) go there if set
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ]
        self.env = env
        self.process = None
        self.ready_timeout = 15.0

    def __enter__(self):
        self._log = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stderr=self._log
        )
        try:
            wait_until(
                lambda: requests.get(self.url + "/healthz", timeout=1).ok,
                timeout=self.ready_timeout,
            )
        except BaseException:
            # `with` calls __exit__ only once __enter__ returned: a server that
            # was slow to start (a loaded machine) would outlive the test.
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._log is not None:
            self._log.close()


class RedisServer:
    """A redis-server of the test's own, which the test may stop and restart."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=0.5)
        try:
            wait_until(client.ping)
        except BaseException:
            self.stop()  # never left running after a start that failed
            raise
        finally:
            client.close()
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.thaw()  # a stopped process never handles SIGTERM
            self.process.terminate()
            self.process.wait(10)

    def freeze(self) -> None:
        """Hang the server (SIGSTOP): connections are still accepted by the
        kernel, but no command is ever answered."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server go on (SIGCONT)."""
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

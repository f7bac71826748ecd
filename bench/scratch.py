"""What the benchmarks share: a scratch PostgreSQL database and Redis prefix,
removed afterwards, and an app served by gunicorn until it answers."""

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Long enough for COMMENTSVC_SECRET_KEY outside tests (32 bytes at least).
BENCH_SECRET = "bench-secret-not-for-production-0123456789"  # noqa: S105


@contextlib.contextmanager
def scratch_database(admin_url=ADMIN_URL, redis_url="redis://127.0.0.1:6379/0"):
    """Yield ``(database_url, redis_prefix)`` for one run; drop both after."""
    name = f"commentsvc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    prefix = f"bench-{name}:"
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name, prefix
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        client = redis.Redis.from_url(redis_url)
        # Flask-Limiter puts its own prefix before ours.
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
        client.close()


def free_port() -> int:
    """A TCP port nothing listens on now (so a run never talks to another
    run's server that answers on a fixed port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(
    app: str,
    port: int,
    env: dict,
    *options: str,
    ready_path="/healthz",
    workers: int = 2,
    log: Path | None = None,
):
    """``gunicorn --workers N [options] app`` on *port*, until it answers
    *ready_path* (stopped on exit). Its output goes to the file *log*, if given."""
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), *options]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(open(log, "w")) if log else subprocess.DEVNULL
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=output
        )
        try:
            _wait_until_ready(process, f"http://127.0.0.1:{port}{ready_path}", log)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(process, url: str, log: Path | None) -> None:
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    tail = log.read_text()[-3000:] if log else ""
    raise RuntimeError(f"gunicorn did not answer {url}\n{tail}")

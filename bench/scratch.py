"""What the benchmarks share: a scratch PostgreSQL database and Redis prefix,
removed afterwards, and an app served by gunicorn until it answers."""

import contextlib
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


@contextlib.contextmanager
def scratch_database():
    """Yield ``(database_url, redis_prefix)`` for one run; drop both after."""
    name = f"commentsvc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    prefix = f"bench-{name}:"
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name, prefix
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        client = redis.Redis()
        # Flask-Limiter puts its own prefix before ours.
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
        client.close()


@contextlib.contextmanager
def gunicorn(app: str, port: int, env: dict, *options: str, ready_path="/healthz"):
    """``gunicorn --workers 2 [options] app`` on *port*, until it answers
    *ready_path* (stopped on exit)."""
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", *options]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                if requests.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{app} did not start")
        yield process
    finally:
        process.terminate()
        process.wait(10)

"""The ``commentsvc`` command, run as a site owner runs it: a separate process in
a directory that is not the checkout, with its settings in an environment file;
and the log lines the service's processes write (one per event, JSON or text)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from conftest import REDIS_PREFIX, REDIS_URL
from servers import ROOT
from timing import generous

from commentsvc.config import ENV_PREFIX, PARSERS, from_environment
from commentsvc.console import make_group, read_env_file

KEY = "a-secret-key-for-the-console-tests-0123456789"
COMMANDS = [
    "comments", "db", "demo-setup", "export", "import", "mail", "moderators",
    "routes", "run", "shell", "sites", "spam", "threads", "webhooks",
]  # fmt: skip
MISSING_KEY = (
    "commentsvc: COMMENTSVC_SECRET_KEY is not set; put it in commentsvc.env or "
    "the environment (see docs/production.md)\n"
)


def console() -> list[str]:
    """The installed entry point (scripts/_setup.sh installs it); a venv made
    before it existed runs the same function as a module."""
    script = Path(sys.executable).parent / "commentsvc"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "commentsvc.console"]


def clean_env(**extra) -> dict:
    """The environment without any COMMENTSVC_ setting, the checkout importable
    (for the module fallback), plus *extra*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def run(args, cwd, env=None, input=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*console(), *args],
        cwd=cwd,
        env=env or clean_env(),
        input=input,
        capture_output=True,
        text=True,
        timeout=generous(120),
    )


def write_env_file(path: Path, database: Path) -> Path:
    path.write_text(
        "# commentsvc settings (systemd's EnvironmentFile= reads this too)\n"
        f"COMMENTSVC_SECRET_KEY={KEY}\n"
        f'COMMENTSVC_DATABASE_URL="sqlite:///{database}"\n'
        f"COMMENTSVC_REDIS_URL={REDIS_URL}\n"
        f"COMMENTSVC_REDIS_KEY_PREFIX='{REDIS_PREFIX}console:'\n"
    )
    return path


def test_without_the_secret_key_a_command_says_so_in_one_line(tmp_path):
    done = run(["sites", "list"], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == MISSING_KEY
    assert done.stdout == ""


def test_help_lists_every_command_without_the_secret_key(tmp_path):
    done = run(["--help"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    listed = done.stdout.split("Commands:")[1]
    for command in COMMANDS:
        assert f"\n  {command} " in listed, command
    sub = run(["sites", "create", "--help"], cwd=tmp_path)
    assert sub.returncode == 0, sub.stderr
    assert "--captcha-provider" in sub.stdout


def test_commentsvc_env_in_the_current_directory_is_read(tmp_path):
    write_env_file(tmp_path / "commentsvc.env", tmp_path / "owner.sqlite3")
    upgraded = run(["db", "upgrade"], cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    created = run(
        [
            "sites",
            "create",
            "news",
            "--name",
            "News",
            "--origin",
            "https://news.example",
        ],
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout == "created site news\n"
    listed = run(["sites", "list"], cwd=tmp_path)
    assert listed.stdout.startswith("news\tNews\tcaptcha=none")


def test_commentsvc_env_file_names_a_file_elsewhere(tmp_path):
    settings = write_env_file(tmp_path / "prod.env", tmp_path / "elsewhere.sqlite3")
    other = tmp_path / "somewhere"
    other.mkdir()
    env = clean_env(COMMENTSVC_ENV_FILE=str(settings))
    assert run(["db", "upgrade"], cwd=other, env=env).returncode == 0
    done = run(["moderators", "list"], cwd=other, env=env)
    assert (done.returncode, done.stdout) == (0, "none\n"), done.stderr
    # The environment wins over the file.
    broken = run(
        ["moderators", "list"],
        cwd=other,
        env={**env, "COMMENTSVC_DATABASE_URL": "mysql://nope"},
    )
    assert broken.returncode == 2
    assert broken.stderr.startswith("commentsvc: COMMENTSVC_DATABASE_URL must be")
    assert len(broken.stderr.splitlines()) == 1


def test_a_missing_or_malformed_env_file_is_one_line(tmp_path):
    missing = run(
        ["sites", "list"],
        cwd=tmp_path,
        env=clean_env(COMMENTSVC_ENV_FILE=str(tmp_path / "absent.env")),
    )
    assert missing.returncode == 2
    assert missing.stderr == (
        f"commentsvc: COMMENTSVC_ENV_FILE names {tmp_path / 'absent.env'}, "
        "which is no file\n"
    )
    (tmp_path / "commentsvc.env").write_text("COMMENTSVC_SECRET_KEY\n")
    malformed = run(["sites", "list"], cwd=tmp_path)
    assert malformed.returncode == 2
    assert malformed.stderr == (
        f"commentsvc: {tmp_path / 'commentsvc.env'} line 1: expected NAME=value\n"
    )


def test_templates_are_found_from_another_directory(tmp_path):
    write_env_file(tmp_path / "commentsvc.env", tmp_path / "t.sqlite3")
    done = run(
        ["shell"],
        cwd=tmp_path,
        input="print('template:', app.jinja_env.get_template('errors/error.html'))\n",
    )
    assert done.returncode == 0, done.stderr
    assert "template: <Template 'errors/error.html'>" in done.stdout


def test_flask_help_names_the_missing_key_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "--help"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=generous(120),
    )
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith("Error: COMMENTSVC_SECRET_KEY is required")
    assert "`commentsvc --help` lists them" in first


# --- the production files: what docs/production.md installs ------------------------


def test_every_setting_is_in_docs_configuration():
    documented = (ROOT / "docs" / "configuration.md").read_text()
    assert [n for n in PARSERS if f"`{ENV_PREFIX}{n}`" not in documented] == []


def test_the_env_example_names_real_settings_and_loads(monkeypatch, tmp_path):
    values = read_env_file(ROOT / "deploy" / "commentsvc.env.example")
    assert set(values) <= {ENV_PREFIX + name for name in PARSERS}
    assert values["COMMENTSVC_SECRET_KEY"] == ""  # the owner makes one
    settings = {**values, "COMMENTSVC_SECRET_KEY": KEY}
    found = from_environment(settings)
    assert found["TRUSTED_PROXIES"] == 1
    assert found["DATABASE_URL"].startswith("postgresql://")


@pytest.mark.parametrize(
    "unit",
    ["commentsvc.service", "commentsvc-worker.service", "commentsvc-spam.service"],
)
def test_each_unit_runs_a_command_that_exists(unit):
    text = (ROOT / "deploy" / unit).read_text()
    lines = dict(
        line.split("=", 1)
        for line in text.splitlines()
        if "=" in line and line[0] != "#"
    )
    assert lines["User"] == "commentsvc"
    assert lines["EnvironmentFile"] == "/opt/commentsvc/commentsvc.env"
    assert lines["Restart"] in ("always", "on-failure")
    program, *args = lines["ExecStart"].split()
    assert program.startswith("/opt/commentsvc/.venv/bin/")
    if program.endswith("/commentsvc"):
        group = make_group()
        with click.Context(group) as ctx:
            command = group.get_command(ctx, args[0]).get_command(ctx, args[1])
        assert command is not None, args
    else:
        assert args[-1] == "wsgi:app"


# --- logs: one line per event ------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_worker_writes_each_event_once(tmp_path, log_format):
    """Redis unreachable: the webhook worker says so once (it polls instead),
    and that line is written once, in the format asked for."""
    write_env_file(tmp_path / "commentsvc.env", tmp_path / "w.sqlite3")
    assert run(["db", "upgrade"], cwd=tmp_path).returncode == 0
    env = clean_env(
        COMMENTSVC_REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
        COMMENTSVC_LOG_FORMAT=log_format,
    )
    log = tmp_path / "worker.log"
    with log.open("w") as sink:
        worker = subprocess.Popen(
            [*console(), "webhooks", "worker", "--poll-interval", "0.2"],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=sink,
        )
        try:
            deadline = time.monotonic() + generous(60)
            while "polling only" not in log.read_text():
                assert worker.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            # Three polls (0.2 s each) go by: each tries Redis again, and
            # none may say so again.
            time.sleep(0.6)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(generous(30))
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    polling = [line for line in lines if "polling only" in line]
    assert len(polling) == 1, lines
    events = [line for line in lines if not line.startswith("webhooks worker:")]
    if log_format == "json":
        parsed = [json.loads(line) for line in events]
        assert any(e["logger"] == "commentsvc.wakeup" for e in parsed)
    else:
        assert not any(line.startswith("{") for line in events), events
        assert (
            " INFO commentsvc.wakeup: webhook worker: Redis unavailable" in (polling[0])
        )

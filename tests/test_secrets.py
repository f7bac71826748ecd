"""Secrets never come back out once they are set.

Captcha secrets, the Akismet key, webhook signing secrets and moderators'
passwords are set through the CLI and the admin pages; then comments are posted
and verified (against a local captcha stand-in and Akismet stand-in), moderated
through the queue, and their webhooks delivered to a real receiver that checks
the signatures. Every log record (all loggers, at DEBUG), everything written to
stdout and stderr, every CLI output, every page and API response, and every
webhook sent is then searched for every secret. The only places a secret may
appear are the two the design allows: a webhook secret on the page (or CLI
output) that creates or rotates it, once.
"""

import base64
import logging
import re
import secrets
import shlex
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from akismet_standin import KEY as AKISMET_KEY
from akismet_standin import AkismetStandIn
from captcha_standin import CaptchaStandIn
from crawl import crawl, csrf_from, form_fields, log_in
from factories import ORIGIN, comment_payload, make_site
from flask import request, request_finished
from webhooks.receiver import Receiver

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Role
from commentsvc.moderation.accounts import create_moderator
from commentsvc.webhooks.worker import Worker

WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
API = "/api/v1/sites/news/comments"


def _secret(name: str) -> str:
    return f"{name}-{secrets.token_hex(12)}"


@dataclass
class Record:
    where: str
    text: str
    # A webhook secret this output is allowed to show: the one it creates.
    shows: str | None = None


class Evidence:
    """Everything the service said, to be searched for secrets."""

    def __init__(self):
        self.records: list[Record] = []

    def add(self, where: str, text: str, shows: str | None = None) -> None:
        self.records.append(Record(where, text, shows))

    def record_responses(self, app) -> None:
        """Keep every response *app* sends, as sent: after every after_request
        function and the session cookie."""

        def keep(sender, response, **extra):
            # (A streamed file's body is a file of the package.)
            body = "" if response.direct_passthrough else response.get_data(True)
            head = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            where = f"{request.method} {request.full_path} -> {response.status}"
            self.add(where, head + "\n\n" + body)

        request_finished.connect(keep, app, weak=False)


@pytest.fixture
def evidence():
    return Evidence()


def _variants(secret: str) -> list[str]:
    """A secret, and the forms a leak might take (a webhook secret's key bytes)."""
    found = [secret]
    if secret.startswith("whsec_"):
        raw = secret.removeprefix("whsec_")
        found += [raw, base64.b64decode(raw).hex()]
    return found


def test_no_secret_leaves_once_set(make_app, evidence, caplog, capfd):
    # Everything at DEBUG: our loggers (LOG_LEVEL below) and the libraries'; and
    # every SQL statement SQLAlchemy runs, with what it says of their values.
    # (Not SQLAlchemy's DEBUG: that level is defined as dumping result rows.)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    captcha_cli, captcha_ui = _secret("captcha-cli"), _secret("captcha-ui")
    password_cli, password_ui = _secret("password-cli"), _secret("password-ui")
    webhook_secrets = []

    with (
        CaptchaStandIn(secret=captcha_cli) as captcha,
        AkismetStandIn() as akismet,
        Receiver() as receiver,
    ):
        app = make_app(
            **captcha.config(),
            AKISMET_API_URL=akismet.url,
            WEBHOOK_ALLOW_PRIVATE_NETWORKS="127.0.0.1/32",
            LOG_LEVEL="DEBUG",
        )
        evidence.record_responses(app)
        runner = app.test_cli_runner()

        def cli(command: str, stdin=None):
            result = runner.invoke(args=shlex.split(command), input=stdin)
            assert result.exit_code == 0, result.output
            shown = WEBHOOK_SECRET.search(result.output)
            evidence.add(f"flask {command}", result.output, shown and shown[0])
            return result.output

        def decide(client, action: str, comment: Comment) -> int:
            queue = client.get("/moderation/queue").get_data(True)
            data = {
                "csrf_token": csrf_from(queue),
                "next": "/moderation/queue",
                "one": f"{action}:{comment.id}:{comment.version}",
            }
            return client.post("/moderation/decide", data=data).status_code

        def post(token=None, **fields):
            payload = comment_payload(captcha_token=token, **fields)
            return app.test_client().post(API, json=payload, headers={"Origin": ORIGIN})

        # --- set through the CLI -------------------------------------------------
        cli(
            f"sites create news --name News --origin {ORIGIN} "
            "--captcha-provider recaptcha_v2 --captcha-site-key public-key "
            "--captcha-secret-stdin",
            stdin=captcha_cli + "\n",
        )
        cli("moderators create boss --admin --password-stdin", stdin=password_cli)
        added = cli(f"webhooks add news {receiver.url}")
        webhook_secrets.append(WEBHOOK_SECRET.search(added)[0])
        cli("sites list")
        cli("webhooks list")

        # --- verification with the CLI's secret, then with a wrong one ----------
        assert post(captcha.issue("recaptcha_v2")).status_code == 202
        assert post("forged-token").status_code == 403
        captcha.secret = "what-the-provider-expects-now"
        assert post(captcha.issue("recaptcha_v2")).status_code == 202  # held
        readiness = app.test_client().get("/readyz").json
        assert "captcha_misconfigured" in readiness["warnings"]

        # --- set through the admin pages -------------------------------------------
        boss = log_in(app, "boss", password_cli)
        settings_url = "/moderation/sites/news/settings"
        fields = form_fields(boss.get(settings_url).get_data(True), settings_url)
        fields.update(captcha_secret=captcha_ui, akismet_key=AKISMET_KEY)
        assert boss.post(settings_url, data=fields).status_code == 302
        captcha.secret = captcha_ui

        page = boss.get("/moderation/moderators").get_data(True)
        new_moderator = {
            "csrf_token": csrf_from(page),
            "username": "mod",
            "password": password_ui,
            "sites": "news",
        }
        assert (
            boss.post("/moderation/moderators", data=new_moderator).status_code == 302
        )

        page = boss.get("/moderation/webhooks/").get_data(True)
        endpoint = {**form_fields(page, "/moderation/webhooks/"), "site": "news"}
        endpoint["url"] = receiver.url + "/second"
        created = boss.post("/moderation/webhooks/", data=endpoint)
        webhook_secrets.append(WEBHOOK_SECRET.search(created.get_data(True))[0])
        evidence.records[-1].shows = webhook_secrets[-1]  # (that response's record)
        endpoint_id = int(
            re.search(r"/moderation/webhooks/(\d+)", created.get_data(True))[1]
        )
        rotated = boss.post(
            f"/moderation/webhooks/{endpoint_id}/rotate-secret",
            data={"csrf_token": csrf_from(created.get_data(True))},
        )
        webhook_secrets.append(WEBHOOK_SECRET.search(rotated.get_data(True))[0])
        evidence.records[-1].shows = webhook_secrets[-1]
        receiver.secrets.extend(webhook_secrets)

        # --- posting with the admin's secret and Akismet ---------------------------
        ham = post(captcha.issue("recaptcha_v2"), body="A thoughtful reply.")
        spam = post(captcha.issue("recaptcha_v2"), body="Cheap viagra here")
        assert ham.status_code == spam.status_code == 202
        assert post("").status_code == 403  # no token at all
        with app.app_context():
            ham_row = db.session.get(Comment, ham.json["id"])
            spam_row = db.session.get(Comment, spam.json["id"])
            assert spam_row.status == CommentStatus.SPAM  # Akismet said so

        # --- moderation by the moderator the admin created -------------------------
        mod = log_in(app, "mod", password_ui)
        assert decide(mod, "approve", ham_row) == 302
        assert decide(mod, "approve", spam_row) == 302  # rescued from spam
        assert akismet.calls("submit-ham"), "the rescue was reported to Akismet"

        # --- webhooks delivered, signed with the secrets ---------------------------
        with app.app_context():
            worker = Worker.from_app(app)
            try:
                worker.run_until_idle()
            finally:
                worker.close()
        assert receiver.received
        assert all(r.verified_with for r in receiver.received)
        for received in receiver.received:
            evidence.add(
                f"webhook to {received.path}",
                str(received.headers) + received.body.decode(),
            )

        # --- every page and response, for each of them -----------------------------
        for client in (boss, mod):
            crawl(client)
        anonymous = app.test_client()
        for path in (
            "/",
            "/readyz",
            "/healthz",
            "/metrics",
            f"{API}?thread=/article",
            "/api/v1/openapi.json",
            "/moderation/login",
        ):
            anonymous.get(path)

    # --- the search ---------------------------------------------------------------
    for record in caplog.records:
        evidence.add(f"log {record.name}", f"{record.getMessage()} {vars(record)!r}")
    out, err = capfd.readouterr()
    evidence.add("stdout", out)
    evidence.add("stderr", err)

    every_secret = [
        captcha_cli,
        captcha_ui,
        password_cli,
        password_ui,
        AKISMET_KEY,
        *webhook_secrets,
    ]
    assert len(evidence.records) > 100
    leaks = []
    for record in evidence.records:
        for secret in every_secret:
            if secret == record.shows:
                assert secret in record.text  # the one place it is shown, once
                continue
            leaks += [(record.where, s) for s in _variants(secret) if s in record.text]
    assert leaks == []
    # Each webhook secret was shown exactly once.
    assert sorted(r.shows for r in evidence.records if r.shows) == sorted(
        webhook_secrets
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 4


def test_a_database_error_does_not_dump_its_parameters(app):
    # Logged by the error handler, an error's message would otherwise end with
    # every bound value of the statement. (PostgreSQL's own DETAIL of a NOT NULL
    # or unique violation may still quote a value of the row.)
    secret = _secret("in-a-failed-insert")
    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError) as failure:
            db.session.execute(
                sa.text("INSERT INTO sites (slug, name) VALUES ('x', :name)"),
                {"name": secret},
            )
        db.session.rollback()
        dialect = db.engine.dialect.name

    message = str(failure.value)
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    assert "[parameters:" not in message
    if dialect == "sqlite":
        assert secret not in message


def test_a_nul_in_a_secret_is_refused_and_not_logged(app, caplog):
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        make_site()
        create_moderator("boss", "correct horse battery", role=Role.ADMIN)
    boss = log_in(app, "boss", "correct horse battery")
    url = "/moderation/sites/news/settings"
    secret = _secret("with-a-nul") + "\x00"
    fields = form_fields(boss.get(url).get_data(True), url)

    response = boss.post(url, data={**fields, "captcha_secret": secret})

    assert response.status_code == 422
    assert "Contains a NUL character." in response.get_data(True)
    assert secret[:-1] not in caplog.text
    assert secret[:-1] not in response.get_data(True)

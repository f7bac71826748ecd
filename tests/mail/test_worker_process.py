"""The real worker process, ``flask --app wsgi mail worker``: it keeps trying
while the SMTP server is down, delivers once it is back, and stops on SIGTERM."""

import signal
import subprocess
import sys

import sqlalchemy as sa
from factories import comment_payload
from servers import ROOT, app_environment, wait_until
from timing import generous

from commentsvc.extensions import db
from commentsvc.models import DeliveryStatus, MailMessage

WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker"]


def attempts(app) -> int:
    with app.app_context():
        row = db.session.scalar(sa.select(MailMessage))
        return row.attempts if row is not None else 0


def test_the_worker_process_delivers_once_the_smtp_server_is_back(
    mail_app, smtp, tmp_path
):
    env = app_environment(mail_app)
    for name in ("MAIL_URL", "MAIL_FROM", "PUBLIC_URL"):
        env[f"COMMENTSVC_{name}"] = str(mail_app.config[name])
    env["COMMENTSVC_MAIL_POLL_INTERVAL"] = "0.2"
    # Retries enough to outlast a slow machine between two of them.
    env["COMMENTSVC_MAIL_RETRY_DELAYS"] = ",".join(["0.3"] * 30)
    smtp.stop()
    log = tmp_path / "worker.log"
    with open(log, "w") as output:
        worker = subprocess.Popen(
            WORKER, cwd=ROOT, env=env, stdout=output, stderr=output
        )
        try:
            response = mail_app.test_client().post(
                "/api/v1/sites/news/comments", json=comment_payload()
            )
            assert response.status_code == 202
            # Down: attempts are made and retried every 0.3 s.
            wait_until(lambda: attempts(mail_app) >= 1, timeout=generous(15))
            smtp.start()
            wait_until(lambda: smtp.messages, timeout=generous(15))
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(generous(15)) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    [message] = smtp.messages
    assert message["To"] == "mod@news.example"
    with mail_app.app_context():
        row = db.session.scalar(sa.select(MailMessage))
        assert row.status == DeliveryStatus.SUCCEEDED
    text = log.read_text()
    assert "not sent: ConnectionRefusedError" in text
    assert "mail worker: 1 sent" in text

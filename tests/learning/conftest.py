"""Fixtures for the learning filter's tests: a site with the filter on, posts
through the real API (tests/spam's helpers), decisions through the real
moderation routes, and the training worker as a separate process."""

import subprocess
import sys

import pytest
from crawl import csrf_from
from servers import ROOT, app_environment
from spam.conftest import PASSWORD, logged_in_client

from commentsvc.extensions import db
from commentsvc.models import Role
from commentsvc.moderation.accounts import create_moderator

# One campaign, as a site sees it: the starter model has never heard of it.
CAMPAIGN = "Glimmerfold"
SPAM_TEXTS = [
    f"{CAMPAIGN} changed my life, cheap replica watches and bags, order now",
    f"Make $5000 a week from home with {CAMPAIGN}, the link is in my profile",
    f"Check out my {CAMPAIGN} channel for free gift cards, subscribe and share",
    f"{CAMPAIGN} SEO services: buy backlinks and followers cheap, visit us",
    f"Call the {CAMPAIGN} support hotline now for help with your account",
    f"Earn money fast with the {CAMPAIGN} crypto bot, guaranteed daily profit",
]
REAL_TEXTS = [
    "The council vote was closer than the article suggests; three members abstained.",
    "I drove that road last winter and the potholes were already a problem.",
    "Good piece, though the chart of school budgets could use clearer labels.",
    "My grandmother worked at that mill for thirty years, sad to see it close.",
    "Does anyone know whether the new bus schedule starts in March or April?",
    "The mayor's quote in the fourth paragraph contradicts what she said last week.",
]


@pytest.fixture
def admin(app):
    """A logged-in admin (through the login form)."""
    with app.app_context():
        create_moderator("boss", PASSWORD, role=Role.ADMIN)
    return logged_in_client(app, "boss")


def decide(client, comment_ids, action: str):
    """Decide *comment_ids* with a bulk action of the real queue page."""
    from commentsvc.models import Comment

    app = client.application
    with app.app_context():
        targets = [f"{i}:{db.session.get(Comment, i).version}" for i in comment_ids]
    page = client.get("/moderation/queue").get_data(as_text=True)
    response = client.post(
        "/moderation/decide",
        data={
            "csrf_token": csrf_from(page),
            "bulk": action,
            "selected": targets,
            "next": "/moderation/queue",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def flask_command(app, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``flask --app wsgi ARGS`` in its own process, configured as *app*."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=app_environment(app),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def spam_worker():
    """``spawn(app)``: the training worker as its own process; stopped after."""
    processes = []

    def spawn(app, poll_interval: float = 1.0):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "spam",
                "worker",
                "--poll-interval",
                str(poll_interval),
            ],
            cwd=ROOT,
            env=app_environment(app),
        )
        processes.append(process)
        return process

    yield spawn
    for process in processes:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

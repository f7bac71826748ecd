"""The learning filter through the API and the real moderation routes: its
probability in every comment's signals, the site's thresholds, decisions that
teach it across processes, a model that survives a restart, and failures that
hold a comment instead of losing it."""

import numpy as np
import pytest
import sqlalchemy as sa
from factories import make_site
from servers import Gunicorn, app_environment, wait_until
from spam.conftest import API, ORIGIN, PENDING, SPAM, accepted, form_token, post, stored

from commentsvc.extensions import db
from commentsvc.learning.model import LinearModel
from commentsvc.learning.trainer import retrain
from commentsvc.models import Site, SpamModel

from .conftest import CAMPAIGN, REAL_TEXTS, SPAM_TEXTS, decide, flask_command


def _site_id(app, slug="news") -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Site.id).where(Site.slug == slug))


def _learned(app, comment_id) -> dict:
    return stored(app, comment_id).signals["spam_filter"]


def _teach(app, admin, client, rounds=3):
    """Post the example texts and decide them as a moderator would."""
    spam_ids, real_ids = [], []
    for n in range(rounds):
        for text in SPAM_TEXTS:
            spam_ids.append(accepted(post(client, body=f"{text} ({n})")))
        for text in REAL_TEXTS:
            real_ids.append(accepted(post(client, body=f"{text} ({n})")))
    decide(admin, spam_ids, "spam")
    decide(admin, real_ids, "approve")
    return spam_ids, real_ids


def test_every_comment_carries_the_filters_probability(app, client):
    with app.app_context():
        make_site()
    comment = stored(app, accepted(post(client, body=REAL_TEXTS[0])))
    signal = comment.signals["spam_filter"]
    assert 0.0 <= signal["probability"] <= 1.0
    assert signal["model"] == "starter"
    assert signal["verdict"] in ("pass", "hold", "spam")
    assert comment.status == PENDING


@pytest.mark.parametrize(
    ("settings", "status", "held"),
    [
        # Everything scores above 0.0001: stored as spam.
        ({"spam_threshold": 0.0001, "spam_hold_threshold": 0.0001}, SPAM, None),
        # Held with the probability as the reason, not spam.
        ({"spam_threshold": 1.0, "spam_hold_threshold": 0.0001}, PENDING, True),
        # Nothing reaches these.
        ({"spam_threshold": 1.0, "spam_hold_threshold": 1.0}, PENDING, None),
        # The filter off: not scored at all.
        ({"spam_filter_enabled": False}, PENDING, None),
    ],
)
def test_thresholds_are_per_site(app, client, settings, status, held):
    with app.app_context():
        make_site(**settings)
        make_site("other", spam_threshold=1.0, spam_hold_threshold=1.0)
    response = post(client, body=SPAM_TEXTS[0])
    comment = stored(app, accepted(response))  # the same 202 whatever the verdict
    assert comment.status == status
    if settings.get("spam_filter_enabled") is False:
        assert "spam_filter" not in comment.signals
        return
    probability = comment.signals["spam_filter"]["probability"]
    looks = comment.signals.get("held", {}).get("looks_like_spam")
    assert looks == (probability if held else None)
    # The other site's thresholds are its own.
    other = client.post(
        API.replace("/news/", "/other/"),
        json={
            "thread": "/a",
            "url": f"{ORIGIN}/a",
            "author": "Reader",
            "body": SPAM_TEXTS[0],
            "form_token": form_token(app, site="other"),
        },
        headers={"Origin": ORIGIN},
    )
    assert stored(app, accepted(other)).status == PENDING


def test_a_decision_in_one_process_changes_the_next_verdict_in_another(
    app, client, admin, spam_worker
):
    """Posts go to gunicorn, decisions to this process's moderation routes,
    training to the worker process: within seconds the next post's verdict
    comes from the site's own model."""
    with app.app_context():
        make_site()
    spam_worker(app)
    # gunicorn keeps a model for ten minutes unless the trainer's broadcast
    # drops it: a lost broadcast cannot pass within the wait below.
    env = {**app_environment(app), "COMMENTSVC_READ_CACHE_TTL": "600"}
    with Gunicorn(env) as server:
        import requests

        def post_there(body):
            response = requests.post(
                server.url + API,
                json={
                    "thread": "/a",
                    "url": f"{ORIGIN}/a",
                    "author": "Reader",
                    "body": body,
                    "form_token": form_token(app),
                },
                headers={"Origin": ORIGIN},
                timeout=10,
            )
            assert response.status_code == 202, response.text
            return response.json()["id"]

        probe = f"Has anyone here tried {CAMPAIGN}? I hear good things about it"
        before = _learned(app, post_there(probe))
        assert before["model"] == "starter"
        _teach(app, admin, client)
        after = wait_until(
            lambda: (s := _learned(app, post_there(probe)))["model"] != "starter" and s,
            timeout=30,
            interval=0.5,
        )
    assert after["model"].startswith("site v")
    assert after["probability"] > before["probability"]


def test_restart_keeps_the_model(make_app, admin, client, app):
    with app.app_context():
        make_site()
    _teach(app, admin, client)
    result = flask_command(app, "spam", "retrain", "--site", "news")
    assert result.returncode == 0, result.stderr
    assert "model version 1 from 36 decisions" in result.stdout
    probe = "Order cheap replica watches now, free shipping from our shop"
    first = _learned(app, accepted(post(client, body=probe)))
    restarted = make_app()  # a new process's view: nothing in memory
    second = _learned(restarted, accepted(post(restarted.test_client(), body=probe)))
    assert first["model"] == second["model"]
    assert first["model"].startswith("site v1 (36 decisions")
    assert second["probability"] == first["probability"]


def test_training_never_runs_on_the_post_path_or_in_the_decision(app, client, admin):
    with app.app_context():
        make_site()
    _teach(app, admin, client)
    accepted(post(client, body=SPAM_TEXTS[0]))
    # No worker ran: decisions and posts stored no model.
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SpamModel.site_id))) == 0
        retrain(_site_id(app))
        assert db.session.get(SpamModel, _site_id(app)).version == 1


def _store_state(app, state: bytes) -> None:
    with app.app_context():
        db.session.add(SpamModel(site_id=_site_id(app), state=state, version=7))
        db.session.commit()


def _other_features_version() -> bytes:
    """A model whose columns meant something else (an older release)."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([1.0, 1.0, 0.0, 10.0, 5.0]), allow_pickle=False)
    np.save(buffer, np.array([1, 2], dtype=np.int64), allow_pickle=False)
    np.save(buffer, np.array([0.1, 0.2]), allow_pickle=False)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "state",
    [
        b"",
        b"not a model at all",
        LinearModel(np.array([1, 2]), np.array([0.1, 0.2]), 0.0).to_bytes()[:-9],
    ],
    ids=["empty", "garbage", "truncated"],
)
def test_a_broken_model_state_holds_comments_instead_of_failing(app, client, state):
    with app.app_context():
        make_site()
    _store_state(app, state)
    comment = stored(app, accepted(post(client, body=SPAM_TEXTS[0])))
    assert comment.status == PENDING
    assert comment.signals["held"]["spam_filter_unavailable"] == "BrokenModel"
    assert "spam_filter" not in comment.signals


def test_a_model_of_an_older_version_leaves_the_starter_to_judge(app, client):
    """After an upgrade that changes the features: not an error that holds
    every comment, but the starter alone until the worker retrains."""
    with app.app_context():
        make_site()
    _store_state(app, _other_features_version())
    comment = stored(app, accepted(post(client, body=SPAM_TEXTS[0])))
    assert "spam_filter_unavailable" not in (comment.signals.get("held") or {})
    assert comment.signals["spam_filter"]["model"] == "starter"


class _Payload:
    """Unpickling this creates a file: proof that a pickle was executed."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_no_model_state_is_unpickled(app, client, tmp_path):
    import io

    marker = tmp_path / "unpickled"
    buffer = io.BytesIO()
    np.save(buffer, np.array([1.0, 2.0, 0.0, 0.0, 0.0]), allow_pickle=False)
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(marker)
    np.save(buffer, evil, allow_pickle=True)
    np.save(buffer, evil, allow_pickle=True)
    with app.app_context():
        make_site()
    _store_state(app, buffer.getvalue())
    comment = stored(app, accepted(post(client, body=SPAM_TEXTS[0])))
    assert comment.status == PENDING
    assert comment.signals["held"]["spam_filter_unavailable"] == "BrokenModel"
    assert not marker.exists()


def test_a_missing_starter_model_holds_comments(make_app, tmp_path):
    app = make_app(SPAM_STARTER_MODEL=str(tmp_path / "nowhere.npy"))
    with app.app_context():
        make_site()
    comment = stored(app, accepted(post(app.test_client(), body=REAL_TEXTS[0])))
    assert comment.status == PENDING
    assert comment.signals["held"]["spam_filter_unavailable"] == "FileNotFoundError"


def test_moderators_see_what_pushed_the_verdict(app, client, admin):
    with app.app_context():
        make_site(spam_hold_threshold=0.0001)
    comment_id = accepted(post(client, body=SPAM_TEXTS[1]))
    signal = _learned(app, comment_id)
    assert signal["pushed"], signal
    page = admin.get("/moderation/queue").get_data(as_text=True)
    assert f"{round(signal['probability'] * 100)} % spam" in page
    assert "Pushed towards spam by:" in page
    name, weight = signal["pushed"][0]
    assert f'<q class="feature">{name}</q> (+{weight:.2f})' in page.replace(
        "&#34;", '"'
    )


def test_spam_report_shows_the_sites_figures(app, client, admin):
    with app.app_context():
        make_site()
    _teach(app, admin, client, rounds=5)
    result = flask_command(app, "spam", "retrain")
    assert result.returncode == 0, result.stderr
    report = flask_command(app, "spam", "report", "--site", "news")
    assert report.returncode == 0, report.stderr
    out = report.stdout
    assert "site news: the last 60 moderator decisions" in out
    assert "spam (30), as the filter decided them when posted:" in out
    assert "real comments (30), as the filter decided them when posted:" in out
    assert "model: version 1, 60 decisions (30 spam)" in out
    assert "out-of-fold, as this model would have decided its own decisions:" in out
    unknown = flask_command(app, "spam", "report", "--site", "nope")
    assert unknown.returncode != 0
    assert "no site 'nope'" in unknown.stderr


def test_rejected_comments_teach_real_and_undecided_ones_nothing(app, client, admin):
    with app.app_context():
        make_site()
    spam_ids = [
        accepted(post(client, body=f"{t} [{n}]")) for n in range(2) for t in SPAM_TEXTS
    ]
    real_ids = [
        accepted(post(client, body=f"{t} [{n}]")) for n in range(2) for t in REAL_TEXTS
    ]
    accepted(post(client, body="Never decided: waits in the queue"))
    decide(admin, spam_ids, "spam")
    decide(admin, real_ids, "reject")
    with app.app_context():
        done = retrain(_site_id(app))
        row = db.session.get(SpamModel, _site_id(app))
    assert done.examples == 24
    assert (row.examples, row.spam_examples) == (24, 12)


def test_the_spam_tab_teaches_rescues_as_real_and_confirmations_as_spam(
    app, client, admin
):
    with app.app_context():
        make_site(spam_threshold=0.0001)  # everything is stored as spam
    real = [
        accepted(post(client, body=f"{t} <{n}>")) for n in range(2) for t in REAL_TEXTS
    ]
    spam = [
        accepted(post(client, body=f"{t} <{n}>")) for n in range(2) for t in SPAM_TEXTS
    ]
    assert all(stored(app, i).status == SPAM for i in real + spam)
    with app.app_context():
        site_id = _site_id(app)
        # The filter's own verdicts that nobody looked at teach nothing.
        assert retrain(site_id).version is None
    tab = admin.get("/moderation/queue?status=spam").get_data(as_text=True)
    assert "Confirm spam selected" in tab
    assert f'value="spam:{spam[0]}:1" data-action="spam">Confirm spam<' in tab
    decide(admin, real, "approve")  # rescued
    decide(admin, spam, "spam")  # confirmed: no status change, but a decision
    assert all(stored(app, i).status == SPAM for i in spam)
    assert all(stored(app, i).moderated_at is not None for i in spam)
    with app.app_context():
        done = retrain(site_id)
        row = db.session.get(SpamModel, site_id)
    assert done.version == 1
    assert (row.examples, row.spam_examples) == (24, 12)

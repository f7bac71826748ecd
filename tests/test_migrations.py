"""``flask db upgrade`` on empty databases, and models and migrations agree."""

import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from conftest import (
    BACKENDS,
    base_config,
    close_redis_clients,
    create_postgres_database,
    drop_postgres_database,
)

from commentsvc import (
    PROJECT_ROOT,
    create_app,
    models,  # noqa: F401 - declares the tables
)
from commentsvc.extensions import db

# Every table the models declare, plus Alembic's own.
TABLES = set(db.metadata.tables) | {"alembic_version"}


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """The URL of a database that has never seen a migration."""
    if request.param == "sqlite":
        path = tmp_path / "empty.sqlite3"
        path.touch()  # an existing, empty file
        yield f"sqlite:///{path}"
    else:
        name = f"commentsvc_migrations_{uuid.uuid4().hex[:10]}"
        url = create_postgres_database(name)
        try:
            yield url
        finally:
            drop_postgres_database(name)


@pytest.fixture
def empty_app(empty_database):
    app = create_app(base_config(empty_database))
    yield app
    with app.app_context():
        db.engine.dispose()
    close_redis_clients(app)


def tables(app) -> set[str]:
    with app.app_context():
        names = set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
        return names


def flask_db(app, *args):
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_upgrade_an_empty_database_then_models_and_migrations_agree(empty_app):
    assert tables(empty_app) == set()

    flask_db(empty_app, "upgrade")
    assert tables(empty_app) == TABLES

    # `flask db check` fails (exit code 1) if autogenerate finds any difference.
    flask_db(empty_app, "check")


def test_downgrade_to_base_and_upgrade_again(empty_app):
    flask_db(empty_app, "upgrade")
    flask_db(empty_app, "downgrade", "base")
    assert tables(empty_app) == {"alembic_version"}

    flask_db(empty_app, "upgrade")
    assert tables(empty_app) == TABLES
    flask_db(empty_app, "check")


def test_the_readme_deploy_step_on_a_fresh_sqlite_file(tmp_path):
    """`flask --app wsgi db upgrade`, configured by the environment alone."""
    path = tmp_path / "deploy.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTSVC_")}
    env.update(
        COMMENTSVC_SECRET_KEY="deploy-secret-" + "k" * 32,
        COMMENTSVC_DATABASE_URL=f"sqlite:///{path}",
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (["db", "upgrade"], ["db", "check"]):
        done = subprocess.run(
            [*flask, *command],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        assert set(sa.inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_check_notices_a_schema_that_drifted_from_the_models(empty_app):
    """The agreement test above is not vacuous."""
    flask_db(empty_app, "upgrade")
    with empty_app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_comments_ip"))
    result = empty_app.test_cli_runner().invoke(args=["db", "check"])
    # Exactly check's own refusal, naming the drift: any other failure (a
    # usage error, a traceback from a broken env.py) is not this test passing.
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert (
        "Error: New upgrade operations detected: [('add_index', "
        "Index('ix_comments_ip', Column('ip'"
    ) in result.output


def _insert_site_and_thread(connection) -> None:
    """A site (id 1) and a thread (id 1) as the schema of 0002/0003 has them."""
    from commentsvc.models import utcnow

    connection.execute(
        sa.text(
            "INSERT INTO sites (slug, name, allowed_origins, captcha_provider,"
            " captcha_score_threshold, require_email, moderation_policy,"
            " trusted_author_min_approved, max_length, max_links,"
            " blocked_words, watch_words, min_submit_seconds, created_at)"
            " VALUES ('s', 'S', '[]', 'none', 0.5, false, 'hold_all', 1,"
            " 5000, 2, '', '', 3, :now)"
        ),
        {"now": utcnow()},
    )
    connection.execute(
        sa.text(
            "INSERT INTO threads (site_id, key, url, created_at)"
            " VALUES (1, '/a', 'https://x.example/a', :now)"
        ),
        {"now": utcnow()},
    )


def test_0003_fills_in_the_body_digest_of_recent_comments(empty_app):
    """The repeat rules look bodies up by digest: the migration that adds it
    computes it for the last day's comments, as the service does."""
    from datetime import timedelta

    from commentsvc.models import utcnow
    from commentsvc.spam.rules import body_digest

    flask_db(empty_app, "upgrade", "0002")
    with empty_app.app_context():
        with db.engine.begin() as connection:
            _insert_site_and_thread(connection)
            for ident, age in ((1, timedelta(hours=1)), (2, timedelta(days=3))):
                connection.execute(
                    sa.text(
                        "INSERT INTO comments (id, site_id, thread_id, author, body,"
                        " body_html, status, signals, created_at, version) VALUES"
                        " (:id, 1, 1, 'A', :body, '<p>x</p>', 'pending', '{}', :at, 1)"
                    ),
                    {"id": ident, "body": f"body {ident}", "at": utcnow() - age},
                )
        db.engine.dispose()
    flask_db(empty_app, "upgrade")
    with empty_app.app_context():
        digests = dict(
            db.session.execute(sa.text("SELECT id, body_hash FROM comments")).all()
        )
        db.session.remove()
        db.engine.dispose()
    assert digests == {1: body_digest("body 1"), 2: None}


def test_0004_adds_the_spam_filter_settings_and_keeps_every_row(empty_app):
    """The learning filter's columns are added in place: on SQLite a copied and
    dropped sites table would take every thread and comment with it."""
    from commentsvc.models import utcnow

    flask_db(empty_app, "upgrade", "0003")
    with empty_app.app_context():
        with db.engine.begin() as connection:
            _insert_site_and_thread(connection)
            connection.execute(
                sa.text(
                    "INSERT INTO comments (id, site_id, thread_id, author, body,"
                    " body_html, status, signals, created_at, version) VALUES"
                    " (1, 1, 1, 'A', 'b', '<p>b</p>', 'approved', '{}', :at, 1)"
                ),
                {"at": utcnow()},
            )
        db.engine.dispose()
    flask_db(empty_app, "upgrade")
    with empty_app.app_context():
        site = db.session.execute(
            sa.text(
                "SELECT spam_filter_enabled, spam_threshold, spam_hold_threshold"
                " FROM sites"
            )
        ).one()
        counts = [
            db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("sites", "threads", "comments")
        ]
        db.session.remove()
        db.engine.dispose()
    assert (bool(site[0]), site[1], site[2]) == (True, None, None)
    assert counts == [1, 1, 1]

"""Extensions, created unbound here and bound to an app in :func:`init_app`."""

import logging

import redis
from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

from .redis_circuit import connection_pool

log = logging.getLogger(__name__)

# Named constraints, so that migrations can alter them (SQLite batch mode too).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after commit: a view can answer with the id and status
# of what it stored without another query.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "moderation.login"
login_manager.login_message = "Please log in to moderate comments."


def init_app(app: Flask) -> None:
    """Bind every extension to *app*."""
    db.init_app(app)
    # Teardowns run in reverse order of registration: this one runs before
    # Flask-SQLAlchemy's.
    app.teardown_appcontext(_end_session)
    migrate.init_app(
        app, db, directory=app.config["MIGRATIONS_DIR"], render_as_batch=True
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    app.session_interface = HttpsAwareSessionInterface()
    # One pool for every Redis call of the app, the rate limiter's included: a
    # call that times out stops the others for a while (see redis_circuit).
    pool = connection_pool(
        app.config["REDIS_URL"],
        app.config["REDIS_SOCKET_TIMEOUT"],
        app.config["REDIS_PROBE_INTERVAL"],
    )
    app.extensions["commentsvc.redis"] = redis.Redis(connection_pool=pool)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (behind
    a trusted proxy, ProxyFix tells us), not only when configured so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )


def _end_session(exc: BaseException | None) -> None:
    """End the request's database session. Its closing ROLLBACK fails if the
    database went away after the request's last query; raised from a teardown,
    that error would turn a response already made into a 500. The failure has
    invalidated the connection, so a second try ends the session cleanly."""
    try:
        db.session.remove()
    except DBAPIError as error:
        log.warning("database session ended uncleanly: %s", type(error).__name__)
        db.session.remove()


def get_redis() -> redis.Redis:
    """Return the app's Redis client (never raises; commands may raise RedisError)."""
    from flask import current_app

    return current_app.extensions["commentsvc.redis"]


def _sqlite_pragmas(dbapi_connection, connection_record):
    # SQLite ignores foreign keys unless asked, and WAL lets readers run beside the
    # single writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()

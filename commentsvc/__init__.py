"""commentsvc: a self-hosted, moderated comment service with spam protection."""

from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config -> extensions -> blueprints -> errors -> CLI.

    Raises:
        commentsvc.config.ConfigError: the configuration is missing or invalid.
    """
    from . import (
        cli,
        config,
        converters,
        errors,
        extensions,
        health,
        logs,
        metrics,
        pages,
        ratelimit,
        security,
    )
    from .accounts.views import bp as auth_bp
    from .api import bp as api_bp
    from .api import fastread
    from .api import limits as api_limits
    from .api.cors import add_cors_headers
    from .comments import cache as read_cache
    from .embed import bp as embed_bp
    from .mail.views import bp as mail_bp
    from .moderation import bp as moderation_bp
    from .webhooks.views import bp as webhooks_bp

    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.update(config.load(app.instance_path, test_config))
    app.config.setdefault("MIGRATIONS_DIR", str(PROJECT_ROOT / "migrations"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    logs.init_app(app)
    extensions.init_app(app)
    read_cache.init_app(app)

    converters.init_app(app)  # before any route is added
    app.register_blueprint(health.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(auth_bp)  # readers' sign-in pages
    extensions.csrf.exempt(api_bp)
    app.after_request(add_cors_headers)
    ratelimit.init_app(app, api_limits.VIEW_LIMITS)
    security.init_app(app)

    metrics.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    fastread.init_app(app)
    ratelimit.trust_proxies(app)  # outermost: every layer sees the client's address
    return app

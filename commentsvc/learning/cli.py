"""``flask --app wsgi spam ...``: retrain, report, and the training worker."""

from collections import Counter

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from ..models import Site
from ..wakeup import stop_on_signals
from . import store, thresholds
from .trainer import REPORT_AT, Worker, retrain

spam_cli = AppGroup("spam", help="The learning spam filter.")


def _site(slug: str) -> Site:
    site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    if site is None:
        raise click.ClickException(f"no site {slug!r}")
    return site


@spam_cli.command("retrain")
@click.option("--site", "slug", help="One site (default: every site).")
def retrain_command(slug):
    """Rebuild sites' models from all their stored decisions, now."""
    if slug:
        ids = [_site(slug).id]
    else:
        ids = list(db.session.scalars(sa.select(Site.id).order_by(Site.id)))
    for site_id in ids:
        done = retrain(site_id)
        name = store.site_slug(site_id)
        if done.version is None:
            click.echo(
                f"{name}: {done.examples} decisions, not of both kinds: "
                "the starter model goes on alone"
            )
        else:
            click.echo(
                f"{name}: model version {done.version} from {done.examples} "
                f"decisions in {done.seconds:.1f} s"
            )


def _outcome(signals: dict) -> str:
    if (signals.get("spam_filter") or {}).get("verdict") == "spam":
        return "spam"
    held = signals.get("held") or {}
    if "looks_like_spam" in held:
        return "held"
    if "spam_filter" not in signals:
        return "unscored"
    return "passed"


def _share(n: int, total: int) -> str:
    return f"{n:>5} ({n / total:6.1%})" if total else f"{n:>5}"


@spam_cli.command("report")
@click.option("--site", "slug", required=True)
@click.option("--last", type=click.IntRange(1, 100_000), default=500, show_default=True)
def report_command(slug, last):
    """The filter's figures over the site's recent decisions."""
    site = _site(slug)
    decided = store.recent_decisions(site.id, last)
    click.echo(f"site {slug}: the last {len(decided)} moderator decisions")
    for is_spam, title in ((True, "spam"), (False, "real comments")):
        outcomes = Counter(_outcome(s) for spam, s in decided if spam == is_spam)
        total = sum(outcomes.values())
        click.echo(f"  {title} ({total}), as the filter decided them when posted:")
        for outcome, label in (
            ("spam", "stored as spam"),
            ("held", "held: looks like spam"),
            ("passed", "passed"),
            ("unscored", "not scored (filter off, failed, or older)"),
        ):
            click.echo(f"    {label:<44}{_share(outcomes[outcome], total)}")
    row = store.model_row(site.id)
    if row is None:
        click.echo("model: the starter model alone (no decisions of both kinds yet)")
        return
    click.echo(
        f"model: version {row.version}, {row.examples} decisions "
        f"({row.spam_examples} spam), trained {row.trained_at:%Y-%m-%d %H:%M} UTC"
    )
    store_at, hold_at = thresholds(site)
    floor = f"{row.spam_floor:.3f}" if row.spam_floor is not None else "-"
    click.echo(
        f"thresholds: stored as spam at {store_at:.3f} "
        f"({'automatic' if site.spam_threshold is None else 'set'}; learned "
        f"floor {floor}), held at {hold_at:.3f} "
        f"({'automatic' if site.spam_hold_threshold is None else 'set'})"
    )
    at = (row.figures or {}).get("at")
    if at:
        click.echo("out-of-fold, as this model would have decided its own decisions:")
        click.echo("  probability  spam caught  real marked")
        for p in REPORT_AT:
            f = at[str(p)]
            click.echo(
                f"  >= {p:<8} {f['spam_caught']:>11.1%} {f['real_marked']:>12.1%}"
            )


@spam_cli.command("worker")
@click.option("--once", is_flag=True, help="Train what is due, then exit.")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    help="Seconds between looks at the database when Redis stays silent "
    "(default: SPAM_POLL_INTERVAL).",
)
def worker_command(once, poll_interval):
    """Retrain each site's model within seconds of its moderators' decisions."""
    config = current_app.config
    worker = Worker(
        current_app._get_current_object(),
        poll_interval=poll_interval or config["SPAM_POLL_INTERVAL"],
        settle=config["SPAM_TRAIN_SETTLE"],
    )
    try:
        with stop_on_signals(worker.stop, enabled=not once):
            if once:
                results = worker.run_once()
                click.echo(f"spam worker: {len(results)} sites trained")
            else:
                worker.run()
    finally:
        worker.close()

"""Creating and changing sites: the one place their settings are validated."""

import dataclasses
import re

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from . import audit
from .comments.cache import invalidate, read_cache, settings_key
from .comments.errors import SiteNotFound, ValidationFailed
from .extensions import db
from .models import REJECT_THRESHOLD, CaptchaProvider, ModerationPolicy, Site
from .origins import normalize_origin
from .ratelimit import validate_limits

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# The listing's orders (docs/embed.md).
SORTS = ("oldest", "newest")
# The reader features' settings and their ranges. Nesting stops at 8 levels:
# deeper, a 320 px column would leave a reply less than half of it.
_READER_RANGES = {
    "report_threshold": (1, 1000),
    "edit_window_seconds": (0, 86_400),
    "max_reply_depth": (1, 8),
}


def normalize_origins(values) -> list[str]:
    """Return *values* as canonical origins, without duplicates.

    Raises:
        ValidationFailed: a value is not an http(s) origin.
    """
    origins = []
    for value in values:
        origin = normalize_origin(value)
        if origin is None:
            raise ValidationFailed(
                {
                    "allowed_origins": f"{value!r} is not an origin like https://example.com"
                }
            )
        if origin not in origins:
            origins.append(origin)
    return origins


# The longest close_after_days (a century): beyond it, "off" says it better.
MAX_CLOSE_AFTER_DAYS = 36_500


def close_after_days(value) -> int | None:
    """A close_after_days setting: days (1 to MAX_CLOSE_AFTER_DAYS), or None for
    never (given as None, "", 0, "0" or "off").

    Raises:
        ValueError: anything else.
    """
    text = str(value if value is not None else "").strip().lower()
    if text in ("", "0", "off"):
        return None
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_CLOSE_AFTER_DAYS:
        raise ValueError(
            f"A number of days from 1 to {MAX_CLOSE_AFTER_DAYS}, or 0 or off for never."
        )
    return days


def reject_threshold(value) -> float:
    """A reject_threshold setting: a probability from 0.05 to 1 (under 0.05
    nearly every comment would count as likely to be rejected); empty (or
    None) is the default, REJECT_THRESHOLD.

    Raises:
        ValueError: anything else (with the sentence to show).
    """
    if value is None or str(value).strip() == "":
        return REJECT_THRESHOLD
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        number = float("nan")
    if not 0.05 <= number <= 1.0:  # NaN fails too
        raise ValueError("A probability from 0.05 to 1 (like 0.7), or empty for 0.7.")
    return number


def _apply(site: Site, changes: dict) -> None:
    errors = {}
    for name, value in changes.items():
        try:
            if isinstance(value, str) and "\x00" in value:
                # PostgreSQL refuses NUL in text: a 500 (and the value in the log).
                raise ValueError("Contains a NUL character.")
            if name == "name":
                value = (value or "").strip()
                if not value or len(value) > 200:
                    raise ValueError("A name of 1 to 200 characters is required.")
            elif name == "allowed_origins":
                value = normalize_origins(value)
            elif name == "captcha_provider":
                value = CaptchaProvider(value)
            elif name == "moderation_policy":
                value = ModerationPolicy(value)
            elif name in ("blocked_words", "watch_words"):
                value = "\n".join(
                    w.strip() for w in (value or "").splitlines() if w.strip()
                )
                if len(value) > 20_000:
                    raise ValueError("At most 20000 characters.")
            elif name in ("captcha_site_key", "captcha_secret", "akismet_key"):
                value = (value or "").strip() or None
                if value and len(value) > 200:
                    raise ValueError("At most 200 characters.")
            elif name == "captcha_score_threshold":
                value = float(value)
                if not 0.0 <= value <= 1.0:
                    raise ValueError("A score between 0.0 and 1.0.")
            elif name == "post_rate_limit":
                value = (value or "").strip() or None
                if value is not None:
                    if len(value) > 200:
                        raise ValueError("At most 200 characters.")
                    validate_limits(value)
            elif name in (
                "require_email",
                "spam_filter_enabled",
                "mail_own_approval",
                "share_spam_signals",
                "reject_hold_trusted",
                "reject_nudge",
            ):
                value = bool(value)
            elif name in ("spam_threshold", "spam_hold_threshold"):
                if str(value if value is not None else "").strip().lower() in (
                    "",
                    "auto",
                ):
                    value = None  # automatic
                else:
                    try:
                        value = float(value)
                    except (TypeError, ValueError):
                        value = float("nan")
                    if not 0.0 < value <= 1.0:  # NaN fails too
                        raise ValueError(
                            "A probability above 0 and at most 1 (like 0.8), "
                            "or empty for automatic."
                        )
            elif name == "reject_threshold":
                value = reject_threshold(value)
            elif name == "close_after_days":
                value = close_after_days(value)
            elif name in ("max_length", "trusted_author_min_approved"):
                value = int(value)
                if not 1 <= value <= 100_000:
                    raise ValueError("A number from 1 to 100000.")
            elif name in _READER_RANGES:
                value, (low, high) = int(value), _READER_RANGES[name]
                if not low <= value <= high:
                    raise ValueError(f"A number from {low} to {high}.")
            elif name == "default_sort":
                if value not in SORTS:
                    raise ValueError("Either oldest or newest.")
            elif name in ("max_links", "min_submit_seconds"):
                value = int(value)
                if not 0 <= value <= 3600:
                    raise ValueError("A number from 0 to 3600.")
            else:
                raise ValueError("Not a site setting.")
        except ValidationFailed as error:
            errors.update(error.fields)
            continue
        except ValueError as error:
            errors[name] = str(error) if str(error) else "Invalid value."
            continue
        setattr(site, name, value)
    if errors:
        raise ValidationFailed(errors)


def create_site(slug: str, name: str, *, actor=None, **settings) -> Site:
    """Create a site; *actor* is the admin doing it (None: the command line).

    Raises:
        ValidationFailed: the slug is taken or malformed, or a setting is invalid.
    """
    if not SLUG.match(slug or ""):
        raise ValidationFailed(
            {"slug": "Use 1-64 lowercase letters, digits and dashes."}
        )
    site = Site(slug=slug, allowed_origins=[])
    try:
        _apply(site, {"name": name, **settings})
        db.session.add(site)
        db.session.flush()
        given = {"name": name, **settings}
        audit.record(
            "site.created",
            site,
            audit.diff({}, {key: getattr(site, key) for key in given}),
            actor,
            site,
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed({"slug": f"The slug {slug!r} is taken."}) from None
    except BaseException:
        db.session.rollback()
        raise
    return site


def update_site(slug: str, *, actor=None, **changes) -> Site:
    """Change the settings of a site; *actor* is the admin doing it (None: the
    command line).

    Raises:
        SiteNotFound: no such site.
        ValidationFailed: a setting is invalid; nothing was changed.
    """
    site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    if site is None:
        raise SiteNotFound(slug)
    try:
        before = {name: getattr(site, name, None) for name in changes}
        _apply(site, changes)
        _audit_update(site, before, actor)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    invalidate(site.slug)  # its public config and origins are in cached reads
    return site


def _audit_update(site: Site, before: dict, actor) -> None:
    # Origins decide who may embed the site and call its API: their own kind.
    changed = audit.diff(before, {name: getattr(site, name) for name in before})
    origins = changed.pop("allowed_origins", None)
    if origins is not None:
        audit.record("site.origins", site, {"allowed_origins": origins}, actor, site)
    if changed:
        audit.record("site.settings", site, changed, actor, site)


def list_sites() -> list[Site]:
    return list(db.session.scalars(sa.select(Site).order_by(Site.slug)))


_sites = Site.__table__
# A read-only snapshot of a site's row, safe to share between threads; its repr
# names the site only (a secret must not reach a log through it).
SiteSettings = dataclasses.make_dataclass(
    "SiteSettings", [column.key for column in _sites.columns], frozen=True, repr=False
)
SiteSettings.__repr__ = lambda self: f"<SiteSettings {self.slug}>"
_BY_SLUG = sa.select(_sites).where(_sites.c.slug == sa.bindparam("slug"))


def site_settings(slug: str):
    """Every setting of the site *slug* as a read-only ``SiteSettings``, or None.

    Posts read them on every request, so they are cached in-process like public
    reads; :func:`update_site` drops them everywhere.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed.
    """
    cache = read_cache()
    key = settings_key(slug)
    settings = cache.get(key)
    if settings is None:
        generation = cache.generation
        row = db.session.connection().execute(_BY_SLUG, {"slug": slug}).first()
        if row is None:
            return None
        settings = SiteSettings(**row._mapping)
        cache.put(key, settings, generation)
    return settings

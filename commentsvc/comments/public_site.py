"""What public reads need of a site: its public config (what the embed is
told, never a secret), cached in-process with the rest of the site's view."""

import sqlalchemy as sa

from .. import mail
from ..accounts.settings import SignInSettings, defaults
from ..extensions import db
from ..models import Site, SiteSignIn
from ..sites import SiteSettings
from .cache import SiteView, read_cache, site_key

_sites = Site.__table__
_sign_in = SiteSignIn.__table__
# A site and its sign-in settings in one query: a listing built with the read
# cache off (every miss) asks for the site's view each time.
_VIEW = (
    sa.select(_sites, *(c.label(f"sign_in_{c.key}") for c in _sign_in.columns))
    .select_from(_sites.outerjoin(_sign_in, _sign_in.c.site_id == _sites.c.id))
    .where(_sites.c.slug == sa.bindparam("slug"))
)


def public_site_config(site: Site, sign_in) -> dict:
    """What the embed needs to know about a site (never its secrets);
    *sign_in* are its sign-in settings (accounts.sign_in_settings)."""
    return {
        "captcha": {
            "provider": site.captcha_provider.value,
            "site_key": site.captcha_site_key,
        },
        "require_email": site.require_email,
        "max_length": site.max_length,
        # Whether the embed offers "Notify me of replies".
        "notify_replies": mail.enabled(),
        "default_sort": site.default_sort,
        "max_reply_depth": site.max_reply_depth,
        "sign_in": sign_in_config(sign_in),
    }


def sign_in_config(settings) -> dict:
    """How the site's readers may sign in, as the embed offers it."""
    oidc = settings.oidc_issuer and settings.oidc_client_id
    return {
        "guests": settings.guests_allowed,
        "sso": bool(settings.sso_secret or settings.sso_public_key),
        "email": bool(settings.email_sign_in and mail.enabled()),
        "oidc": (settings.oidc_label or "OpenID Connect") if oidc else None,
        # Signed-in readers post without a captcha.
        "skip_captcha": settings.sso_skip_captcha,
    }


def site_view(slug: str) -> SiteView | None:
    """What public reads need of the site *slug*, cached in-process; None if
    there is no such site."""
    cache = read_cache()
    key = site_key(slug)
    view = cache.get(key)
    if view is None:
        generation = cache.generation
        row = db.session.connection().execute(_VIEW, {"slug": slug}).first()
        if row is None:
            return None
        values = row._mapping
        site = SiteSettings(**{c.key: values[c.key] for c in _sites.columns})
        if values["sign_in_site_id"] is None:
            sign_in = defaults(site.id)
        else:
            sign_in = SignInSettings(
                **{c.key: values[f"sign_in_{c.key}"] for c in _sign_in.columns}
            )
        view = SiteView(
            id=site.id,
            slug=site.slug,
            allowed_origins=tuple(site.allowed_origins or ()),
            config=public_site_config(site, sign_in),
            close_after_days=site.close_after_days,
        )
        cache.put(key, view, generation)
    return view

"""What public reads need of a site: its public config (what the embed is
told, never a secret), cached in-process with the rest of the site's view."""

from .. import accounts, mail
from ..models import Site
from ..sites import site_settings
from .cache import SiteView, read_cache, site_key


def public_site_config(site: Site) -> dict:
    """What the embed needs to know about a site (never its secrets)."""
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
        "sign_in": sign_in_config(site),
    }


def sign_in_config(site: Site) -> dict:
    """How the site's readers may sign in, as the embed offers it."""
    settings = accounts.sign_in_settings(site.id, site.slug)
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
        site = site_settings(slug)
        if site is None:
            return None
        view = SiteView(
            id=site.id,
            slug=site.slug,
            allowed_origins=tuple(site.allowed_origins or ()),
            config=public_site_config(site),
            close_after_days=site.close_after_days,
        )
        cache.put(key, view, generation)
    return view

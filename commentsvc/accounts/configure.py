"""Changing a site's sign-in settings (the command line, the settings page):
each value checked, the change audited in its transaction, the SSO secret
created or rotated and handed back once."""

import dataclasses

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError

from .. import audit
from ..comments.errors import ValidationFailed
from ..inputrules import http_url_problem
from . import sso
from .settings import change, sign_in_settings

MAX_NEW_ACCOUNT_MIN_APPROVED = 100
MAX_PUBLIC_KEY = 10_000
_FLAGS = ("guests_allowed", "sso_skip_captcha", "email_sign_in")
# Longest text each column holds (commentsvc/models/accounts.py).
_TEXTS = {
    "oidc_issuer": 500,
    "oidc_client_id": 200,
    "oidc_client_secret": 500,
    "oidc_label": 60,
}
_PUBLIC_KEY_TYPES = {
    "RS256": (rsa.RSAPublicKey,),
    "ES256": (ec.EllipticCurvePublicKey,),
}


def _public_key_problem(algorithm: str, pem) -> str | None:
    """Why *pem* is not a public key PyJWT can check *algorithm* tokens with."""
    if not isinstance(pem, str) or not pem.strip():
        return f"{algorithm} needs the site's public key (PEM)."
    pem = pem.strip()
    if len(pem) > MAX_PUBLIC_KEY or not pem.startswith("-----BEGIN"):
        return "Paste the public key in PEM form (-----BEGIN PUBLIC KEY-----…)."
    try:
        key = get_default_algorithms()[algorithm].prepare_key(pem)
    except (InvalidKeyError, ValueError, TypeError):
        return f"This is not a public key {algorithm} tokens can be checked with."
    if not isinstance(key, _PUBLIC_KEY_TYPES[algorithm]):
        # A private key loads too: it must never be stored here.
        return "This is a private key: paste the public key only, keep the private one."
    if algorithm == "ES256" and key.curve.name != "secp256r1":
        return "ES256 needs a key on the P-256 curve."
    return None


def check_changes(current, **changes) -> dict:
    """*changes* to the sign-in settings *current*, checked and normalised
    (texts stripped, empty texts None).

    Raises:
        ValidationFailed: one message per field wrong; TypeError for a name
            that is no setting.
    """
    problems, clean = {}, {}
    for name, value in changes.items():
        if name in _FLAGS:
            clean[name] = bool(value)
        elif name == "new_account_min_approved":
            if isinstance(value, bool) or not isinstance(value, int):
                problems[name] = "A whole number, please."
            elif not 0 <= value <= MAX_NEW_ACCOUNT_MIN_APPROVED:
                problems[name] = f"From 0 to {MAX_NEW_ACCOUNT_MIN_APPROVED}."
            else:
                clean[name] = value
        elif name == "rejected_hold_ratio":
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems[name] = "A number from 0 to 1, please."
            elif not 0 <= value <= 1:
                problems[name] = "From 0 to 1 (0.3: more than 30 % rejected)."
            else:
                clean[name] = float(value)
        elif name == "sso_algorithm":
            if value not in sso.ALGORITHMS:
                problems[name] = f"One of {', '.join(sso.ALGORITHMS)}."
            else:
                clean[name] = value
        elif name == "sso_public_key":
            clean[name] = value.strip() if isinstance(value, str) else None
            clean[name] = clean[name] or None
        elif name in _TEXTS:
            text = value.strip() if isinstance(value, str) else ""
            if len(text) > _TEXTS[name]:
                problems[name] = f"At most {_TEXTS[name]} characters."
            elif name == "oidc_issuer" and text and http_url_problem(text):
                problems[name] = "The issuer's URL (https://…)."
            clean[name] = text or None
        else:
            raise TypeError(f"no sign-in setting {name!r}")
    algorithm = clean.get("sso_algorithm", current.sso_algorithm or "HS256")
    key = clean.get("sso_public_key", current.sso_public_key)
    if algorithm != "HS256" and "sso_algorithm" not in problems:
        problem = _public_key_problem(algorithm, key)
        if problem:
            problems["sso_public_key"] = problem
    if problems:
        raise ValidationFailed(problems)
    return clean


def update(site, actor=None, **changes):
    """Check *changes* to *site*'s sign-in settings and store them with an
    audit entry (*actor*: the moderator, None for the command line).

    Raises:
        ValidationFailed: a value is wrong; nothing changed.
        sqlalchemy.exc.DBAPIError: the database failed; nothing changed.
    """
    current = sign_in_settings(site.id, site.slug)
    clean = check_changes(current, **changes)
    before = dataclasses.asdict(current)
    changed = audit.diff(before, {**before, **clean})
    if changed:
        audit.record("site.sign_in", site, changed, actor=actor, site=site)
    return change(site.id, site.slug, **clean)


def rotate_sso_secret(site, actor=None) -> str:
    """A new signing secret for *site*'s tokens, stored (the old one stops
    working at once: tokens signed with it are refused) and returned; it is
    shown once and never again.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed; nothing changed.
    """
    current = sign_in_settings(site.id, site.slug)
    secret = sso.new_secret()
    kind = "rotated" if current.sso_secret else "created"
    audit.record(
        f"site.sso_secret_{kind}", site, {"sso_secret": secret}, actor=actor, site=site
    )
    change(site.id, site.slug, sso_secret=secret)
    return secret

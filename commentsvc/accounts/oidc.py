"""OpenID Connect sign-in with the provider a site configured (docs/oidc.md),
through Authlib: discovery, the authorization code flow with PKCE, state and
nonce, and the ID token checked (issuer, audience, signature by the
provider's JWKS, expiry, nonce).

Nothing here keeps state between the start and the callback: :func:`begin`
returns a :class:`Flow` the caller keeps for the browser (a signed cookie,
commentsvc.accounts.oidc_flows) and hands back to :func:`finish`.
"""

import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from ..inputrules import email_problem, name_problem

log = logging.getLogger(__name__)

# Every call to the provider gives up after this many seconds.
TIMEOUT = 5.0
# Clocks differ: an ID token this many seconds past its exp still passes.
LEEWAY_SECONDS = 60
SCOPE = "openid profile email"
# ID tokens signed with a key the JWKS publishes; never "none", never HMAC
# (that would make the client secret a signing key anyone holding it can use).
ASYMMETRIC = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
# Hosts where a provider may speak plain http (a development Keycloak, tests).
LOOPBACK = ("localhost", "127.0.0.1", "::1")
FALLBACK_NAME = "Reader"


class OidcError(Exception):
    """A sign-in that could not finish. ``message`` is the sentence the reader
    sees; ``str(error)`` says why, for the log."""

    status = 400
    message = "Signing in did not work."

    def __init__(self, why: str):
        super().__init__(why)


class ProviderUnavailable(OidcError):
    """The provider did not answer, or answered nonsense (discovery, JWKS,
    token endpoint)."""

    status = 502
    message = "The sign-in provider could not be reached. Please try again later."


class SignInDenied(OidcError):
    """The provider says no (the reader refused consent, or an error)."""

    status = 403
    message = "The sign-in provider did not let you sign in."


class FlowInvalid(OidcError):
    """The callback belongs to no sign-in this browser started (tampered or
    replayed state, an expired or missing cookie)."""

    status = 400
    message = (
        "This sign-in was not started here, or it took too long. "
        "Please go back and sign in again."
    )


class TokenInvalid(OidcError):
    """The ID token failed a check (issuer, audience, signature, expiry,
    nonce)."""

    status = 403
    message = "The sign-in provider's answer could not be verified."


@dataclass(frozen=True)
class Provider:
    """What a site configured: sign in with *label* at *issuer*."""

    issuer: str
    client_id: str
    client_secret: str
    label: str


@dataclass(frozen=True)
class Flow:
    """What the callback must remember of the start: kept by the browser,
    signed, never on our side."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    return_url: str


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    sub: str
    name: str
    email: str | None


def provider_of(settings) -> Provider | None:
    """The site's provider from its sign-in *settings*, or None if it has
    none (or an incomplete one)."""
    issuer = settings.oidc_issuer
    if not (issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    return Provider(
        issuer=issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        label=settings.oidc_label or "OpenID Connect",
    )


def issuer_problem(url: str) -> str | None:
    """Why *url* cannot be an issuer, or None: https (http only on this
    machine), a host, no query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "not a URL"
    if not host or parts.query or parts.fragment or parts.username:
        return "give the issuer's URL, e.g. https://accounts.example.com"
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK):
        return None
    return "the issuer must use https"


def _get_json(session: requests.Session, url: str, what: str) -> dict:
    if issuer_problem(url):
        raise ProviderUnavailable(f"{what} at an unusable URL {url!r}")
    try:
        response = session.get(url, timeout=TIMEOUT, allow_redirects=False)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"{what}: {error.__class__.__name__}") from None
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"{what}: not a JSON object")
    return body


def discover(provider: Provider) -> dict:
    """The provider's metadata, from ``<issuer>/.well-known/openid-configuration``.

    Raises:
        ProviderUnavailable: no answer, or not the metadata of this issuer.
    """
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    with requests.Session() as session:
        metadata = _get_json(session, url, "discovery")
    # OpenID Connect Discovery 4.3: the document must name the issuer we asked.
    if metadata.get("issuer") != provider.issuer:
        raise ProviderUnavailable(
            f"discovery names issuer {metadata.get('issuer')!r}, "
            f"not {provider.issuer!r}"
        )
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise ProviderUnavailable(f"discovery has no {key}")
    return metadata


def _client(provider: Provider, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=TIMEOUT,
    )


def begin(provider: Provider, redirect_uri: str, return_url: str):
    """Where to send the reader to sign in, and the :class:`Flow` to keep
    until they come back: ``(authorization_url, flow)``.

    Raises:
        ProviderUnavailable: discovery failed.
    """
    metadata = discover(provider)
    flow = Flow(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        # RFC 7636: 43 to 128 characters; 64 bytes give 86.
        code_verifier=secrets.token_urlsafe(64),
        redirect_uri=redirect_uri,
        return_url=return_url,
    )
    with _client(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=flow.state,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
        )
    return url, flow


def finish(provider: Provider, flow: Flow, code: str) -> Identity:
    """Trade the *code* for tokens and check the ID token.

    Raises:
        ProviderUnavailable: discovery, the token endpoint or the JWKS failed.
        SignInDenied: the token endpoint refused the code.
        TokenInvalid: the ID token failed a check.
    """
    metadata = discover(provider)
    with _client(provider, flow.redirect_uri) as client:
        try:
            token = client.fetch_token(
                metadata["token_endpoint"],
                code=code,
                code_verifier=flow.code_verifier,
                allow_redirects=False,
            )
        except AuthlibBaseError as error:
            raise SignInDenied(f"token endpoint: {error.error}") from None
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnavailable(
                f"token endpoint: {error.__class__.__name__}"
            ) from None
        if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
            raise TokenInvalid("the token response has no id_token")
        with requests.Session() as session:
            jwks = _get_json(session, metadata["jwks_uri"], "jwks")
    claims = verify_id_token(provider, metadata, jwks, token, flow.nonce)
    return identity(claims)


def verify_id_token(provider, metadata, jwks, token: dict, nonce: str) -> dict:
    """The claims of ``token["id_token"]``, checked: signed by a key of
    *jwks* with an asymmetric algorithm the provider announces, issued by
    the provider for our client id, not expired, carrying our *nonce* (and
    the access token's hash, if it gives one).

    Raises:
        ProviderUnavailable: the JWKS is malformed.
        TokenInvalid: any check failed.
    """
    announced = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in announced if a in ASYMMETRIC]
    try:
        keys = KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ProviderUnavailable(f"jwks: {error}") from None
    try:
        decoded = jwt.decode(
            token["id_token"],
            keys,
            algorithms=algorithms,
            registry=JWSRegistry(algorithms=algorithms),
        )
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
            },
            {
                "nonce": nonce,
                "client_id": provider.client_id,
                "access_token": token.get("access_token"),
            },
        )
        claims.validate(leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError, TypeError) as error:
        raise TokenInvalid(f"id_token: {error}") from None
    return dict(claims)


def identity(claims: dict) -> Identity:
    """Who the checked *claims* name: a display name from ``name``,
    ``preferred_username`` or the address's local part; the address only
    if the provider does not say it is unverified.

    Raises:
        TokenInvalid: no usable ``sub``.
    """
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 255:
        raise TokenInvalid("id_token: no usable sub")
    email = claims.get("email")
    if (
        not isinstance(email, str)
        or email_problem(email.strip())
        # An address the provider did not check could be anyone's.
        or claims.get("email_verified") in (False, "false")
    ):
        email = None
    else:
        email = email.strip().lower()
    local_part = email.split("@", 1)[0] if email else None
    name = FALLBACK_NAME
    for candidate in (claims.get("name"), claims.get("preferred_username"), local_part):
        if isinstance(candidate, str) and candidate.strip():
            candidate = candidate.strip()[:100]
            if not name_problem(candidate):
                name = candidate
                break
    return Identity(sub=sub, name=name, email=email)

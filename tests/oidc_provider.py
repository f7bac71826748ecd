"""A real OpenID Connect provider for the tests, built with Authlib's server
side (the authorization code grant with PKCE and the OpenID Connect code
extension): a discovery document, a JWKS with an RSA key, a login page a
browser fills in, a token endpoint that signs ID tokens. Served over real
HTTP on a free loopback port from a thread; nothing leaves the machine.

Knobs for the refusals a client must make: ``id_token_claims`` overrides
claims of the ID tokens it signs (another ``aud``, an ``exp`` in the past),
``sign_with`` signs them with a key the JWKS does not publish.
"""

import html
import secrets
import time
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.models import ClientMixin
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from servers import InBackground
from werkzeug.serving import make_server

PASSWORD = "correct horse"  # noqa: S105 - every test user's
# One key for the run: making RSA keys is slow, and each provider gets a kid.
_KEY = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})


@dataclass
class User:
    username: str
    password: str
    sub: str
    name: str | None = None
    email: str | None = None
    email_verified: bool | None = True
    preferred_username: str | None = None


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        allowed = {"openid", "profile", "email"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic" if endpoint == "token" else True

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title>
</head><body><h1>Sign in to the test provider</h1>
<form method="post" action="{action}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password"></label>
<button name="decision" value="allow">Sign in</button>
<button name="decision" value="deny">Deny</button>
</form>{error}</body></html>"""


class OidcProvider(InBackground):
    """``with OidcProvider() as provider:`` serves a provider at
    ``provider.issuer`` (host *host*: "localhost" puts it on another site than
    an app on 127.0.0.1, as a real provider is)."""

    def __init__(self, host: str = "127.0.0.1"):
        self.users: dict[str, User] = {}
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.id_token_claims: dict = {}
        self.metadata: dict = {}
        self.sign_with = _KEY
        self.logins = 0
        self.token_requests = []
        self.app = self._make_app()
        server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self._serve(server)
        self.issuer = f"http://{host}:{self.port}"

    def add_user(self, username="ada", password=PASSWORD, **claims) -> User:
        claims.setdefault("sub", f"sub-{username}")
        user = User(username, password, **claims)
        self.users[username] = user
        return user

    def add_client(self, redirect_uri: str, client_id="commentsvc", secret=None):
        client = Client(client_id, secret or secrets.token_urlsafe(16), [redirect_uri])
        self.clients[client_id] = client
        return client

    def _make_app(self) -> Flask:
        provider = self
        app = Flask("oidc_provider")
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 300}
        server = AuthorizationServer(
            app,
            query_client=lambda client_id: provider.clients.get(client_id),
            save_token=lambda token, request: None,
        )

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

            def save_authorization_code(self, code, request):
                payload = request.payload
                provider.codes[code] = Code(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=payload.redirect_uri,
                    scope=request.scope,
                    user=request.user,
                    nonce=payload.data.get("nonce"),
                    code_challenge=payload.data.get("code_challenge"),
                    code_challenge_method=payload.data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                if found and found.client_id == client.client_id:
                    return found
                return None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class Code_(OpenIDCode):
            def exists_nonce(self, nonce, request):
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client):
                return provider.sign_with

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": provider.sign_with.kid}

            def get_client_claims(self, client):
                claims = {"iss": provider.issuer, "aud": [client.client_id]}
                claims["exp"] = int(time.time()) + 300
                return claims

            def generate_user_info(self, user, scope):
                info = UserInfo(sub=user.sub)
                for name in ("name", "preferred_username"):
                    if getattr(user, name) is not None:
                        info[name] = getattr(user, name)
                if "email" in scope and user.email is not None:
                    info["email"] = user.email
                    if user.email_verified is not None:
                        info["email_verified"] = user.email_verified
                # Merged last into the ID token: a knob may override any claim.
                info.update(provider.id_token_claims)
                return info

        server.register_grant(
            CodeGrant, [CodeChallenge(required=True), Code_(require_nonce=True)]
        )

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                {
                    "issuer": provider.issuer,
                    "authorization_endpoint": provider.issuer + "/authorize",
                    "token_endpoint": provider.issuer + "/token",
                    "jwks_uri": provider.issuer + "/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": ["openid", "profile", "email"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                    # A knob: another endpoint (one that is down), say.
                    **provider.metadata,
                }
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([_KEY]).as_dict(private=False))

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            error = ""
            # An invalid request (unknown client, wrong redirect URI) is
            # answered here, before any login.
            try:
                grant = server.get_consent_grant(end_user=None)
            except Exception as refused:  # noqa: BLE001 - shown as the page
                return f"refused: {html.escape(str(refused))}", 400
            if request.method == "POST":
                if request.form.get("decision") == "deny":
                    return server.create_authorization_response(
                        grant=grant, grant_user=None
                    )
                user = provider.users.get(request.form.get("username", ""))
                if user and secrets.compare_digest(
                    user.password, request.form.get("password", "")
                ):
                    provider.logins += 1
                    return server.create_authorization_response(
                        grant=grant, grant_user=user
                    )
                error = "<p role=alert>Wrong username or password.</p>"
            action = html.escape(request.full_path)
            return LOGIN_PAGE.format(action=action, error=error)

        @app.post("/token")
        def token():
            provider.token_requests.append(dict(request.form))
            return server.create_token_response()

        return app


def other_key() -> RSAKey:
    """A key with the provider's kid that its JWKS does not publish."""
    return RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})

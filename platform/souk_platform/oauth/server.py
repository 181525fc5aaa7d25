"""authlib's authorization server wired to Souk: grants, endpoints and the client adapter.

The grants here only translate between authlib's hooks and ``oauth.services``; the rules (one-use
codes, rotation, families, scope narrowing) live in the services. authlib's token generator only
shapes the response: ``save_token`` mints the real secrets through the services and fills them in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE
from flask import Flask

from souk_platform.apps import services as apps_services
from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.auth.scopes import all_scopes
from souk_platform.core.clock import app_now
from souk_platform.core.errors import InvalidState
from souk_platform.db import db
from souk_platform.oauth import device, services
from souk_platform.oauth.models import AuthorizationCode, RefreshToken

SECRET_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
ALL_AUTH_METHODS = [*SECRET_AUTH_METHODS, "none"]


@dataclasses.dataclass
class OAuthClient(ClientMixin):
    """An ``App`` and its current version, as authlib sees a client.

    Redirect URIs must match one of the current version's exactly; scopes may not exceed what the
    current version asks for. Public clients authenticate with ``none`` (and so must use PKCE),
    confidential ones with their secret (Basic or POST body).
    """

    app: App
    app_version: AppVersion

    @property
    def is_public(self) -> bool:
        return self.app.client_type == "public"

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = list(self.app_version.redirect_uris)
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        offered = set(self.app_version.scopes)
        if not scope:
            return list_to_scope(sorted(offered))
        wanted = set(scope_to_list(scope))
        if not wanted <= offered:
            return None  # → invalid_scope: an app may ask only for what its manifest lists
        return list_to_scope(sorted(wanted))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.app_version.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(apps_services.verify_client_secret(self.app, client_secret, app_now()))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none" if self.is_public else method in SECRET_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "client_credentials":
            return not self.is_public  # RFC 6749 §4.4: confidential clients only
        return grant_type in ("authorization_code", "refresh_token", DEVICE_CODE_GRANT_TYPE)


@dataclasses.dataclass
class Consent:
    """The merchant's approval, handed to authlib as the "user" who granted the request."""

    user_id: str
    installation: Installation
    scopes: list[str]


@dataclasses.dataclass
class _Code:
    row: AuthorizationCode

    def get_redirect_uri(self) -> str | None:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return list_to_scope(self.row.scopes)


@dataclasses.dataclass
class _Refresh:
    row: RefreshToken

    def check_client(self, client: OAuthClient) -> bool:
        return self.row.app_id == client.app.id

    def get_scope(self) -> str:
        return list_to_scope(self.row.scopes)


@dataclasses.dataclass
class _Token:
    """A ``TokenRecord`` as authlib's revocation and introspection endpoints see it."""

    record: services.TokenRecord
    now: dt.datetime

    def check_client(self, client: OAuthClient) -> bool:
        return self.record.app_id == client.app.id

    def get_scope(self) -> str:
        return list_to_scope(list(self.record.scopes))

    def is_expired(self) -> bool:
        return self.record.expires_at is not None and self.record.expires_at <= self.now

    def is_revoked(self) -> bool:
        return self.record.revoked


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only: ``plain`` (or no method, which RFC 7636 reads as plain) is refused for
    every client, and a public client without a challenge is refused at the authorization endpoint."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256_code_challenge}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if not challenge and not method:
            if grant.request.client.is_public:
                raise InvalidRequestError("Public clients must use PKCE: send code_challenge with S256.")
            return
        if method != "S256":
            raise InvalidRequestError("code_challenge_method must be S256; 'plain' is refused.")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: _Code) -> str | None:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: _Code) -> str | None:
        return authorization_code.row.code_challenge_method


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        consent: Consent = request.user
        data = request.payload.data
        services.issue_code(
            db.session,
            plaintext=code,
            installation=consent.installation,
            user_id=consent.user_id,
            redirect_uri=request.payload.redirect_uri,
            scopes=consent.scopes,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            now=app_now(),
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> _Code | None:
        row = services.claim_code(db.session, plaintext=code, app_id=client.app.id, now=app_now())
        return _Code(row) if row else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        services.mark_code_used(authorization_code.row, now=app_now())

    def authenticate_user(self, authorization_code: _Code) -> _Code:
        return authorization_code  # the code carries user, shop and installation


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh returns a new refresh token

    def authenticate_refresh_token(self, refresh_token: str) -> _Refresh | None:
        row = services.claim_refresh_token(
            db.session, plaintext=refresh_token, app_id=self.request.client.app.id, now=app_now()
        )
        return _Refresh(row) if row else None

    def authenticate_user(self, refresh_token: _Refresh) -> _Refresh:
        return refresh_token

    def revoke_old_credential(self, refresh_token: _Refresh) -> None:
        services.mark_rotated(refresh_token.row, now=app_now())


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        if self.request.payload.scope:
            raise InvalidScopeError(
                "Client-credentials tokens carry no scopes: they reach developer-level endpoints only."
            )


def _require_token_param(request: OAuth2Request) -> None:
    """RFC 7009 §2.1 and RFC 7662 §2.1: ``token`` is required; a ``token_type_hint`` the server does
    not know is ignored (the lookup tries every kind anyway), never refused as ``unsupported_token_type``."""
    if "token" not in request.form:
        raise InvalidRequestError("Send the token in the 'token' parameter.")


class SoukRevocationEndpoint(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ALL_AUTH_METHODS

    def check_params(self, request: OAuth2Request, client: OAuthClient) -> None:
        _require_token_param(request)

    def authenticate_token(self, request: OAuth2Request, client: OAuthClient) -> _Token | None:
        """The caller's own token, or ``None``: another client's token is left alone and answered
        like an unknown one (200, RFC 7009 §2.2), so the answer does not tell that it exists."""
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        return token if token is not None and token.check_client(client) else None

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
        record = services.find_token(db.session, token_string, hint=token_type_hint)
        return _Token(record, app_now()) if record else None

    def revoke_token(self, token: _Token, request: OAuth2Request) -> None:
        services.revoke_token(db.session, token.record, now=app_now())


class SoukIntrospectionEndpoint(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = SECRET_AUTH_METHODS  # RFC 7662 §2.1: the caller must authenticate

    def check_params(self, request: OAuth2Request, client: OAuthClient) -> None:
        _require_token_param(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
        record = services.find_token(db.session, token_string, hint=token_type_hint)
        return _Token(record, app_now()) if record else None

    def check_permission(self, token: _Token, client: OAuthClient, request: OAuth2Request) -> bool:
        return token.check_client(client)  # an app may introspect only its own tokens

    def introspect_token(self, token: _Token) -> dict[str, Any]:
        record = token.record
        body: dict[str, Any] = {
            "active": True,
            "client_id": record.client_id,
            "token_type": "refresh_token" if record.kind == "refresh_token" else "Bearer",
            "scope": token.get_scope(),
            "iat": int(record.issued_at.timestamp()),
        }
        if record.expires_at is not None:
            body["exp"] = int(record.expires_at.timestamp())
        if record.shop_id is not None:
            body["shop_id"] = record.shop_id
            body["installation_id"] = record.installation_id
        return body


class SoukAuthorizationServer(AuthorizationServer):
    """authlib's Flask server whose clients are Souk apps and whose tokens come from the services."""

    @property
    def scopes_supported(self) -> list[str]:
        # Read from the scope registry on each request: the server is built while the platform registers its
        # blueprints, before extensions (the marketplace) have added their scopes.
        return list(all_scopes())

    @scopes_supported.setter
    def scopes_supported(self, _ignored: Any) -> None:
        """authlib's constructor assigns ``None``; the registry is the only source."""

    def query_client(self, client_id: str) -> OAuthClient | None:
        if not client_id or len(client_id) > 64:
            return None
        app = apps_services.get_app_by_client_id(db.session, client_id)
        if app is None or app.status != "active":
            return None
        try:
            version = apps_services.current_version(app)
        except InvalidState:
            return None
        return OAuthClient(app, version)

    def get_token_grant(self, request: OAuth2Request) -> Any:
        # RFC 6749 §5.2: a missing parameter is invalid_request; unsupported_grant_type is for one we do not support.
        if not request.payload.grant_type:
            raise InvalidRequestError("Send the 'grant_type' parameter.")
        return super().get_token_grant(request)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Mint the secrets for a token response authlib has shaped, and put them in it."""
        client: OAuthClient = request.client
        now = app_now()
        if request.payload.grant_type == "client_credentials":
            _row, token["access_token"] = services.issue_app_token(db.session, app_id=client.app.id, now=now)
            token["expires_in"] = int(services.APP_TOKEN_LIFETIME.total_seconds())
            token.pop("scope", None)
            return
        if request.payload.grant_type == DEVICE_CODE_GRANT_TYPE:
            approval: device.DeviceApproval = request.user
            _row, token["access_token"] = services.issue_app_token(
                db.session,
                app_id=client.app.id,
                now=now,
                lifetime=device.DEVICE_TOKEN_LIFETIME,
                approved_by=approval.user_id,
            )
            token["expires_in"] = int(device.DEVICE_TOKEN_LIFETIME.total_seconds())
            token.pop("scope", None)
            token.pop("refresh_token", None)
            return
        if request.payload.grant_type == "refresh_token":
            previous: RefreshToken = request.refresh_token.row
            installation_id, family_id = previous.installation_id, previous.family_id
        else:
            code: AuthorizationCode = request.authorization_code.row
            installation_id, family_id = code.installation_id, code.id
        installation = db.session.get(Installation, installation_id)
        assert installation is not None  # claim_code / claim_refresh_token checked it is active
        issued = services.issue_installation_tokens(
            db.session,
            installation=installation,
            app_name=client.app.name,
            scopes=scope_to_list(token.get("scope") or ""),
            family_id=family_id,
            now=now,
        )
        token.update(
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            expires_in=issued.expires_in,
            scope=list_to_scope(issued.scopes),
            # Which shop the token acts for, so an app's callback needs no second request to learn it.
            shop_id=installation.shop_id,
            installation_id=installation.id,
        )


def _shape_token(
    grant_type: str,
    client: OAuthClient,
    user: Any = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    """authlib's token-generator hook: the response's shape only; ``save_token`` fills in the secrets."""
    return {"token_type": "Bearer", "access_token": "", "expires_in": 0, "scope": scope or ""}


def init_authorization_server(app: Flask) -> SoukAuthorizationServer:
    """Build the app's authorization server (kept in ``app.extensions["souk.oauth"]``)."""
    server = SoukAuthorizationServer()
    server.init_app(app)
    server.register_token_generator("default", _shape_token)
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(device.SoukDeviceCodeGrant)
    server.register_endpoint(device.SoukDeviceAuthorizationEndpoint)
    server.register_endpoint(SoukRevocationEndpoint)
    server.register_endpoint(SoukIntrospectionEndpoint)
    app.extensions["souk.oauth"] = server
    return server

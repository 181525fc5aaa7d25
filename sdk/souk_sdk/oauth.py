"""OAuth 2 for Souk apps: installation on a shop (authorization code + PKCE), refresh, revoke, app tokens.

::

    oauth = OAuthClient("https://souk.example", client_id, client_secret, redirect_uri=CALLBACK)
    request = oauth.authorization_url(["read_orders", "write_products"])
    # keep request.state and request.code_verifier in the user's session, redirect to request.url …
    code = oauth.parse_callback(callback_url, state=saved_state)
    token = oauth.exchange_code(code, code_verifier=saved_verifier)
    client = Client("https://souk.example", token=RefreshingToken(oauth, token, on_refresh=save))

Refresh tokens rotate: each refresh returns a new one and kills the old; presenting a dead one again
revokes the whole family (every token of that installation's grant). Store the new one first.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

from souk_sdk.problems import SoukError, error_from_response

__all__ = [
    "AuthorizationRequest",
    "OAuthClient",
    "OAuthError",
    "RefreshingToken",
    "ServerMetadata",
    "Token",
    "code_challenge",
    "new_code_verifier",
]

METADATA_PATH = "/.well-known/oauth-authorization-server"


class OAuthError(SoukError):
    """The authorization server refused (RFC 6749 §5.2): ``error`` is its code, e.g. ``invalid_grant``."""

    def __init__(
        self, error: str, description: str = "", *, status: int = 400, headers: Mapping[str, str] | None = None
    ) -> None:
        self.error = error
        self.error_description = description
        super().__init__({"type": "about:blank", "title": error, "detail": description}, status=status, headers=headers)


@dataclass(frozen=True)
class ServerMetadata:
    """What ``/.well-known/oauth-authorization-server`` (RFC 8414) says."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    scopes_supported: tuple[str, ...] = ()
    device_authorization_endpoint: str | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ServerMetadata:
        return cls(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            revocation_endpoint=document.get("revocation_endpoint"),
            introspection_endpoint=document.get("introspection_endpoint"),
            scopes_supported=tuple(document.get("scopes_supported") or ()),
            device_authorization_endpoint=document.get("device_authorization_endpoint"),
        )


@dataclass(frozen=True)
class Token:
    """A token response. ``expires_at`` is Unix time by the clock of the ``OAuthClient`` that got it."""

    access_token: str = field(repr=False)
    token_type: str
    expires_at: float | None
    refresh_token: str | None = field(repr=False)
    scopes: tuple[str, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    #: The shop and installation an installation token acts for (None for an app token).
    shop_id: str | None = None
    installation_id: str | None = None

    @classmethod
    def from_response(cls, document: Mapping[str, Any], *, received_at: float) -> Token:
        expires_in = document.get("expires_in")
        return cls(
            access_token=str(document["access_token"]),
            token_type=str(document.get("token_type", "Bearer")),
            expires_at=received_at + float(expires_in) if expires_in is not None else None,
            refresh_token=document.get("refresh_token"),
            scopes=tuple(str(document.get("scope") or "").split()),
            raw=dict(document),
            shop_id=document.get("shop_id"),
            installation_id=document.get("installation_id"),
        )

    def expires_within(self, seconds: float, *, now: float) -> bool:
        """Whether the access token is dead or dies in the next ``seconds``."""
        return self.expires_at is not None and self.expires_at - seconds <= now


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the merchant, and what to keep in their session until the callback."""

    url: str
    state: str
    code_verifier: str = field(repr=False)


@dataclass(frozen=True)
class DeviceAuthorization:
    """RFC 8628 §3.2: show ``user_code`` and ``verification_uri`` to the person, keep ``device_code``."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_at: float
    interval: int


#: RFC 8628 §3.5 answers that mean "keep polling".
_DEVICE_PENDING = "authorization_pending"
_DEVICE_SLOW_DOWN = "slow_down"


DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


def new_code_verifier() -> str:
    """A PKCE code verifier (RFC 7636 §4.1): 86 random URL-safe characters."""
    return secrets.token_urlsafe(64)


def code_challenge(code_verifier: str) -> str:
    """The S256 code challenge of ``code_verifier``: base64url of its SHA-256, unpadded."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class OAuthClient:
    """One app's OAuth client against one Souk; ``client_secret`` is ``None`` for a public client.

    The endpoints come from the server's RFC 8414 metadata (fetched once, on first use) unless
    ``metadata`` is given. Token calls are never retried: a repeated code or refresh token is
    refused, and a repeated refresh token revokes its family.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        redirect_uri: str | None = None,
        http: httpx.Client | None = None,
        timeout: float | httpx.Timeout = 30.0,
        metadata: ServerMetadata | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.clock = clock
        self._client_secret = client_secret
        self._metadata = metadata
        self._timeout = timeout
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client()

    def __repr__(self) -> str:
        return f"OAuthClient({self.base_url!r}, {self.client_id!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    @property
    def metadata(self) -> ServerMetadata:
        """The server's endpoints, read from its metadata document the first time they are needed."""
        if self._metadata is None:
            response = self._http.get(self.base_url + METADATA_PATH, timeout=self._timeout)
            if response.is_error:
                raise error_from_response(response)
            self._metadata = ServerMetadata.from_document(response.json())
        return self._metadata

    def authorization_url(
        self,
        scopes: str | Iterable[str],
        *,
        redirect_uri: str | None = None,
        state: str | None = None,
        code_verifier: str | None = None,
        shop_id: str | None = None,
    ) -> AuthorizationRequest:
        """The consent page URL for ``scopes``, with a fresh ``state`` and PKCE S256 verifier unless given.

        ``shop_id`` preselects the shop when the merchant owns several.
        """
        state = state or secrets.token_urlsafe(24)
        code_verifier = code_verifier or new_code_verifier()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self._redirect_uri(redirect_uri),
            "scope": _scope_string(scopes),
            "state": state,
            "code_challenge": code_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
        if shop_id:
            params["shop_id"] = shop_id
        endpoint = self.metadata.authorization_endpoint
        url = endpoint + ("&" if "?" in endpoint else "?") + urlencode(params, quote_via=quote)
        return AuthorizationRequest(url=url, state=state, code_verifier=code_verifier)

    def parse_callback(self, callback_url: str, *, state: str) -> str:
        """The ``code`` from the redirect back to the app, after checking ``state``.

        Raises ``OAuthError`` when the merchant denied (``access_denied``), the server reported an
        error, or ``state`` does not match (a forged or mixed-up callback).
        """
        params = {key: values[0] for key, values in parse_qs(urlsplit(callback_url).query).items()}
        if not secrets.compare_digest(params.get("state", ""), state):
            raise OAuthError("invalid_state", "The callback's state is not the one this authorization sent.")
        if "error" in params:
            raise OAuthError(params["error"], params.get("error_description", ""))
        if not params.get("code"):
            raise OAuthError("invalid_request", "The callback carries no code.")
        return params["code"]

    def exchange_code(self, code: str, *, code_verifier: str | None = None, redirect_uri: str | None = None) -> Token:
        """Trade an authorization code for an access and refresh token (a code works once, for 10 minutes).

        ``code_verifier`` is the PKCE verifier of ``authorization_url``. A confidential client may leave it
        out for a code whose consent did not start at the app (an install from the market); a public
        client always needs it.
        """
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect_uri(redirect_uri)}
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        return self._token_request(form)

    def refresh(self, refresh_token: str | Token, *, scopes: str | Iterable[str] | None = None) -> Token:
        """A new access token and a new refresh token; the old refresh token is dead from now on.

        ``scopes`` may narrow the grant, never widen it.
        """
        if isinstance(refresh_token, Token):
            if refresh_token.refresh_token is None:
                raise ValueError("this token came without a refresh token")
            refresh_token = refresh_token.refresh_token
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scopes is not None:
            form["scope"] = _scope_string(scopes)
        return self._token_request(form)

    def client_credentials(self, scopes: str | Iterable[str] | None = None) -> Token:
        """An app token (``souk_apt_…``) for the developer-level ``/api/v1/app`` endpoints; needs the secret."""
        form = {"grant_type": "client_credentials"}
        if scopes is not None:
            form["scope"] = _scope_string(scopes)
        return self._token_request(form)

    def device_authorization(self, scopes: str | Iterable[str] | None = None) -> DeviceAuthorization:
        """Start a device login (RFC 8628): a code for the person to confirm in a browser."""
        endpoint = self.metadata.device_authorization_endpoint
        if endpoint is None:
            raise OAuthError("unsupported_operation", "The server offers no device login.")
        form = {} if scopes is None else {"scope": _scope_string(scopes)}
        started = self.clock()
        document = self._post(endpoint, form)
        if not isinstance(document, dict) or "device_code" not in document:
            raise OAuthError("invalid_response", "The device authorization endpoint answered without a device code.")
        return DeviceAuthorization(
            device_code=str(document["device_code"]),
            user_code=str(document["user_code"]),
            verification_uri=str(document["verification_uri"]),
            verification_uri_complete=document.get("verification_uri_complete"),
            expires_at=started + float(document.get("expires_in") or 600),
            interval=int(document.get("interval") or 5),
        )

    def wait_for_device_token(
        self,
        authorization: DeviceAuthorization,
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[float], None] | None = None,
    ) -> Token:
        """Poll the token endpoint until the person approves; ``OAuthError`` if they deny or the code expires.

        Waits ``interval`` seconds between polls, five more after each ``slow_down`` (RFC 8628 §3.5);
        ``on_wait(seconds_left)`` is called before each wait, for progress.
        """
        interval = authorization.interval
        form = {"grant_type": DEVICE_CODE_GRANT_TYPE, "device_code": authorization.device_code}
        while True:
            left = authorization.expires_at - self.clock()
            if left <= 0:
                raise OAuthError("expired_token", "The code expired before it was approved: start again.")
            if on_wait is not None:
                on_wait(left)
            sleep(min(interval, max(left, 0)))
            try:
                return self._token_request(form)
            except OAuthError as error:
                if error.error == _DEVICE_SLOW_DOWN:
                    interval += 5
                elif error.error != _DEVICE_PENDING:
                    raise

    def revoke(
        self,
        token: str | Token,
        *,
        token_type_hint: Literal["access_token", "refresh_token"] | None = None,
    ) -> None:
        """Revoke a token (RFC 7009); a refresh token takes its whole family with it.

        A ``Token`` revokes its refresh token if it has one. Unknown or already revoked tokens
        are not an error, as the RFC says.
        """
        if isinstance(token, Token):
            if token.refresh_token is not None:
                token, token_type_hint = token.refresh_token, "refresh_token"
            else:
                token, token_type_hint = token.access_token, "access_token"
        endpoint = self.metadata.revocation_endpoint
        if endpoint is None:
            raise OAuthError("unsupported_operation", "The server names no revocation endpoint.")
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        self._post(endpoint, form)

    def _token_request(self, form: dict[str, str]) -> Token:
        received_at = self.clock()
        document = self._post(self.metadata.token_endpoint, form)
        if not isinstance(document, dict) or "access_token" not in document:
            raise OAuthError("invalid_response", "The token endpoint answered without an access token.")
        return Token.from_response(document, received_at=received_at)

    def _post(self, endpoint: str, form: dict[str, str]) -> Any:
        headers = {"Accept": "application/json"}
        if self._client_secret is None:
            form = {**form, "client_id": self.client_id}  # a public client names itself, with no secret
        else:
            # client_secret_basic: both parts form-encoded first (RFC 6749 §2.3.1)
            pair = f"{quote(self.client_id, safe='')}:{quote(self._client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        response = self._http.post(endpoint, data=form, headers=headers, timeout=self._timeout)
        if response.is_error:
            raise _oauth_error(response)
        return response.json() if response.content else None

    def _redirect_uri(self, given: str | None) -> str:
        redirect_uri = given or self.redirect_uri
        if not redirect_uri:
            raise ValueError("pass redirect_uri here or to OAuthClient")
        return redirect_uri


class RefreshingToken:
    """A ``token=`` for ``Client`` that refreshes the access token shortly before it expires.

    ``on_refresh`` gets each new ``Token``: save its refresh token, as the old one is dead.
    Safe to share between threads: only one of them refreshes.
    """

    def __init__(
        self,
        oauth: OAuthClient,
        token: Token,
        *,
        on_refresh: Callable[[Token], None] | None = None,
        leeway: float = 60.0,
    ) -> None:
        self.oauth = oauth
        self.on_refresh = on_refresh
        self.leeway = leeway
        self._token = token
        self._lock = threading.Lock()

    @property
    def token(self) -> Token:
        return self._token

    def __call__(self) -> str:
        with self._lock:
            if self._token.expires_within(self.leeway, now=self.oauth.clock()):
                self._token = self.oauth.refresh(self._token)
                if self.on_refresh is not None:
                    self.on_refresh(self._token)
            return self._token.access_token


def _scope_string(scopes: str | Iterable[str]) -> str:
    return scopes if isinstance(scopes, str) else " ".join(scopes)


def _oauth_error(response: httpx.Response) -> SoukError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = str(body.get("error_description") or "")
        return OAuthError(body["error"], description, status=response.status_code, headers=response.headers)
    return error_from_response(response)

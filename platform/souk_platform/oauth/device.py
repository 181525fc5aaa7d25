"""Device logins (RFC 8628) for developer tools: ``souk-dev login --client-id …`` with no secret.

The tool asks ``POST /oauth/device_authorization`` for a device code and a short user code, tells the
developer to open ``/device`` and confirm the code, and polls the token endpoint with the device
code. Once the app's developer approves in the browser, the next poll gets an **app token** (the
same kind as the client-credentials grant, reaching developer-level endpoints only) that lives
``DEVICE_TOKEN_LIFETIME`` and names its approver; the console lists these logins to sign them out.

Why tie it to an app's client id rather than to the developer: every developer endpoint already
takes an app token, and the client id is public (the console shows it), so no secret ever sits in a
shell history or a config file. Only the app's own developer may approve; a code works once and
for ``DEVICE_CODE_LIFETIME``.

Most apps are confidential clients, and authlib rightly makes those authenticate at its endpoints.
Here the client id alone names the app (``_identify_client``): the device code is the credential
of the token request, as for a public client, and what grants access is the developer's approval
in a logged-in browser session, never the request itself. A secret, when sent, is still checked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint, DeviceCodeGrant
from flask import current_app, url_for

from souk_platform.apps.models import App
from souk_platform.auth.models import User
from souk_platform.auth.services import hash_token
from souk_platform.core.clock import app_now
from souk_platform.core.errors import Conflict, NotFound
from souk_platform.db import DbSession, db
from souk_platform.oauth.models import AppToken, DeviceAuthorization

DEVICE_CODE_LIFETIME = dt.timedelta(minutes=10)
DEVICE_TOKEN_LIFETIME = dt.timedelta(days=30)
DEFAULT_POLL_INTERVAL = 5  # seconds; SOUK_DEVICE_POLL_INTERVAL changes it (tests)
#: RFC 8628 §6.1: no vowels (no words), no look-alikes; 20^8 codes, and each lives 10 minutes.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8


class DeviceCodeNotFound(NotFound):
    code = "device-code-not-found"
    title = "No such login code"


class DeviceCodeDecided(Conflict):
    code = "device-code-decided"
    title = "This login code was already used"


class NotTheAppsDeveloper(Conflict):
    code = "device-code-other-developer"
    title = "Only the app's developer may approve this login"


def normalise_user_code(typed: str) -> str:
    """What a person typed (any case, dashes, spaces) as stored: ``wdjb-mjht`` → ``WDJBMJHT``."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def display_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def pending_login(session: DbSession, *, user_code: str, now: dt.datetime) -> tuple[DeviceAuthorization, App]:
    """The live, undecided login of ``user_code`` and its app; else ``DeviceCodeNotFound`` / ``DeviceCodeDecided``."""
    row = session.scalar(
        sa.select(DeviceAuthorization).where(DeviceAuthorization.user_code == normalise_user_code(user_code))
    )
    if row is None or row.expires_at <= now:
        raise DeviceCodeNotFound(
            "No login waits for this code: check it, or run `souk-dev login` again (a code lasts 10 minutes)."
        )
    if row.status != "pending":
        raise DeviceCodeDecided("This code was already approved or denied: run `souk-dev login` again.")
    app = session.get(App, row.app_id)
    assert app is not None  # device authorizations are made for existing apps only
    return row, app


def decide(session: DbSession, *, user_code: str, developer: User, approve: bool, now: dt.datetime) -> App:
    """The developer approves or denies the login of ``user_code``; only the app's developer may."""
    row, app = pending_login(session, user_code=user_code, now=now)
    if app.developer_id != developer.id:
        raise NotTheAppsDeveloper(
            f"{app.name} belongs to another developer account: log in as its developer to approve this login."
        )
    row.status = "approved" if approve else "denied"
    row.decided_by = developer.id
    session.flush()
    return app


def device_logins(session: DbSession, *, app_id: str, now: dt.datetime) -> list[tuple[AppToken, User | None]]:
    """The live ``souk-dev login`` tokens of the app with their approvers, newest first."""
    rows = session.execute(
        sa.select(AppToken, User)
        .outerjoin(User, User.id == AppToken.approved_by)
        .where(
            AppToken.app_id == app_id,
            AppToken.approved_by.is_not(None),
            AppToken.revoked_at.is_(None),
            AppToken.expires_at > now,
        )
        .order_by(AppToken.created_at.desc())
    )
    return [(token, user) for token, user in rows]


def sign_out(session: DbSession, *, app_id: str, token_id: str, now: dt.datetime) -> None:
    token = session.scalar(
        sa.select(AppToken).where(AppToken.id == token_id, AppToken.app_id == app_id, AppToken.approved_by.is_not(None))
    )
    if token is None:
        raise NotFound("No such login.")
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()


# --- authlib ---------------------------------------------------------------------------------------


def poll_interval() -> int:
    return int(current_app.config.get("SOUK_DEVICE_POLL_INTERVAL") or DEFAULT_POLL_INTERVAL)


def _identify_client(server: Any, request: OAuth2Request, endpoint: str) -> Any:
    """The app the request names by ``client_id``; with a secret sent, authlib's usual check instead."""
    if "Authorization" in request.headers or request.payload.data.get("client_secret"):
        return server.authenticate_client(request, ["client_secret_basic", "client_secret_post"], endpoint)
    client_id = request.payload.client_id
    client = server.query_client(client_id) if client_id else None
    if client is None:
        raise InvalidClientError(
            status_code=400,
            description="Send the app's client_id (the developer console shows it)."
            if not client_id
            else f"No app has the client id {client_id}.",
        )
    request.auth_method = "none"
    return client


class SoukDeviceAuthorizationEndpoint(DeviceAuthorizationEndpoint):
    """``POST /oauth/device_authorization``: any app's client id, no secret needed (a CLI has none)."""

    EXPIRES_IN = int(DEVICE_CODE_LIFETIME.total_seconds())

    def authenticate_client(self, request: OAuth2Request) -> Any:
        request.client = _identify_client(self.server, request, self.ENDPOINT_NAME)
        return request.client

    def create_endpoint_response(self, request: OAuth2Request) -> Any:
        self.INTERVAL = poll_interval()
        return super().create_endpoint_response(request)

    def generate_user_code(self) -> str:
        return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))

    def get_verification_uri(self) -> str:
        base = str(current_app.config["SOUK_PUBLIC_URL"]).rstrip("/")
        return base + url_for("oauth.device_page")

    def save_device_credential(self, client_id: str, scope: str | None, data: dict[str, Any]) -> None:
        client = self.server.query_client(client_id)
        data["user_code"] = display_user_code(data["user_code"])
        data["verification_uri_complete"] = f"{data['verification_uri']}?user_code={data['user_code']}"
        now = app_now()
        db.session.add(
            DeviceAuthorization(
                app_id=client.app.id,
                device_code_hash=hash_token(data["device_code"]),
                user_code=normalise_user_code(data["user_code"]),
                created_at=now,
                expires_at=now + DEVICE_CODE_LIFETIME,
            )
        )
        db.session.flush()


@dataclasses.dataclass
class _Credential:
    """A ``DeviceAuthorization`` as authlib's device grant reads it."""

    row: DeviceAuthorization
    client_id: str
    now: dt.datetime

    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return ""

    def get_user_code(self) -> str:
        return self.row.user_code

    def is_expired(self) -> bool:
        return self.row.expires_at <= self.now


@dataclasses.dataclass
class DeviceApproval:
    """The approving developer, handed to authlib as the grant's user."""

    user_id: str


class SoukDeviceCodeGrant(DeviceCodeGrant):
    """The token endpoint's device-code grant: an app token once approved, and only once."""

    def authenticate_token_endpoint_client(self) -> Any:
        client = _identify_client(self.server, self.request, "token")
        self.server.send_signal("after_authenticate_client", client=client, grant=self)
        return client

    def query_device_credential(self, device_code: str) -> _Credential | None:
        row = db.session.scalar(
            sa.select(DeviceAuthorization)
            .where(DeviceAuthorization.device_code_hash == hash_token(device_code))
            .with_for_update()
        )
        if row is None or row.status == "used":
            return None  # → invalid_request: an unknown code, or one that already gave its token
        app = db.session.get(App, row.app_id)
        return _Credential(row, app.client_id if app else "", app_now())

    def query_user_grant(self, user_code: str) -> tuple[DeviceApproval, bool] | None:
        row = db.session.scalar(sa.select(DeviceAuthorization).where(DeviceAuthorization.user_code == user_code))
        if row is None or row.status == "pending" or row.decided_by is None:
            return None
        if row.status == "approved":
            row.status = "used"  # the token this poll gets is the only one
            db.session.flush()
        return DeviceApproval(row.decided_by), row.status == "used"

    def should_slow_down(self, credential: _Credential) -> bool:
        row, now = credential.row, credential.now
        too_soon = row.last_polled_at is not None and now - row.last_polled_at < dt.timedelta(
            seconds=poll_interval() * 0.8
        )
        row.last_polled_at = now
        db.session.flush()
        return too_soon

"""What the authorization server remembers: codes, refresh tokens and app (client-credentials) tokens.

Every secret is stored as its SHA-256 only. Shop access tokens issued by OAuth are ordinary
``auth.models.AccessToken`` rows bound to the installation; they are not in this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, created_column, id_column, shop_column


class AuthorizationCode(Base):
    """A one-use code from the consent page, bound to client, redirect URI, user, shop and PKCE challenge."""

    __tablename__ = "oauth_codes"

    id: Mapped[str] = id_column("oac")
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    app_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    shop_id: Mapped[str] = shop_column()
    user_id: Mapped[str] = mapped_column(sa.String(64))
    installation_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    redirect_uri: Mapped[str | None] = mapped_column(sa.String(2000))  # as sent; None when omitted
    scopes: Mapped[list[Any]] = mapped_column()
    code_challenge: Mapped[str | None] = mapped_column(sa.String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = created_column()
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RefreshToken(Base):
    """A rotating refresh token. ``family_id`` names the grant chain (the code that started it);
    ``access_token_id`` is the access token issued with it, so a family can be revoked whole."""

    __tablename__ = "oauth_refresh_tokens"

    id: Mapped[str] = id_column("ort")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    app_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    shop_id: Mapped[str] = shop_column()
    installation_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    family_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    access_token_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    scopes: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = created_column()
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # exchanged for a new one
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AppToken(Base):
    """A client-credentials token: the app itself, no shop. Reaches developer-level endpoints only."""

    __tablename__ = "oauth_app_tokens"

    id: Mapped[str] = id_column("oat")
    app_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(sa.String(16))
    # Set for a `souk-dev login` token (device grant): the developer who approved it in the browser.
    approved_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = created_column()
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DeviceAuthorization(Base):
    """An RFC 8628 device login of a tool (``souk-dev login``) waiting for, or given, its developer's approval.

    ``status``: pending → approved | denied; approved → used once the tool has its token. The user
    code is stored as typed without the dash (``WDJBMJHT``); the device code as its SHA-256.
    """

    __tablename__ = "oauth_device_authorizations"

    id: Mapped[str] = id_column("oda")
    app_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    device_code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = created_column()
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

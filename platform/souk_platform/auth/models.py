from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, created_column, id_column


class User(Base):
    """A person who logs in: shop staff, developers, service providers, platform admins."""

    __tablename__ = "users"

    id: Mapped[str] = id_column("usr")
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    is_developer: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # may use the console
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = created_column()


class AccessToken(Base):
    """A bearer token bound to one shop and a set of scopes. Only its SHA-256 is stored.

    Shop owners create them by hand (like a custom-app admin token); OAuth installations mint the
    same kind, with ``installation_id`` set.
    """

    __tablename__ = "access_tokens"

    id: Mapped[str] = id_column("tok")
    shop_id: Mapped[str] = mapped_column(sa.ForeignKey("shops.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(sa.String(16))  # last characters, to recognise it in lists
    created_by: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"))
    installation_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[dt.datetime] = created_column()
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

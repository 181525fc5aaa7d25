from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, Versioned, created_column, id_column

ROLES = ("owner", "staff")


class Shop(Versioned, Base):
    __tablename__ = "shops"

    id: Mapped[str] = id_column("shp")
    name: Mapped[str] = mapped_column(sa.String(200))
    currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    # Shop-level rules the built-in pipeline steps read (points earn rate, cashback, discount merge)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = created_column()


class StaffMember(Base):
    __tablename__ = "staff_members"
    __table_args__ = (sa.UniqueConstraint("shop_id", "user_id"),)

    id: Mapped[str] = id_column("stf")
    shop_id: Mapped[str] = mapped_column(sa.ForeignKey("shops.id"), index=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = created_column()

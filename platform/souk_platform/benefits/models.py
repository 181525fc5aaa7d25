"""Benefit packages (权益包) and the grants that hand them to customers (docs/architecture.md §5.10)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

# join 入会礼 · level 成长礼 · birthday 生日礼 · dormant 流失唤醒礼 · manual (by hand or API)
TRIGGERS = ("join", "level", "birthday", "dormant", "manual")
ITEM_TYPES = ("points", "stored_value", "coupon", "member_discount", "member_price", "free_shipping", "app_item")
# Items that are a right held for a while (shown by 会员享权判断) rather than a balance moved once.
ENTITLEMENT_TYPES = ("member_discount", "member_price", "free_shipping", "app_item")
GRANT_STATUSES = ("active", "used", "expired")


class BenefitPackage(Versioned, Base):
    """What a customer receives (``items``) and when (``trigger`` with its ``trigger_params``)."""

    __tablename__ = "benefit_packages"

    id: Mapped[str] = id_column("bpk")
    shop_id: Mapped[str] = shop_column()
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    trigger: Mapped[str] = mapped_column(sa.String(16))
    # level: {"level": 3}; birthday: {"when": "day"|"month"}; dormant: {"days": 90}; join/manual: {}
    trigger_params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    items: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # active | disabled
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()


class BenefitGrant(Versioned, Base):
    """One package given to one customer for one period: the unique key makes it once per period."""

    __tablename__ = "benefit_grants"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "package_id", "customer_id", "period"),
        sa.Index("ix_benefit_grants_customer_id_status", "customer_id", "status"),
        sa.Index("ix_benefit_grants_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[str] = id_column("bgr")
    shop_id: Mapped[str] = shop_column()
    package_id: Mapped[str] = mapped_column(sa.ForeignKey("benefit_packages.id"), index=True)
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    # The period the grant covers: "join", "level:3", "birthday:2026", "dormant:2026-01-05", "manual:<id>".
    period: Mapped[str] = mapped_column(sa.String(100))
    trigger: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    # The package's items as granted, each with what it became (a ledger transfer, an expiry).
    items: Mapped[list[Any]] = mapped_column(default=list)
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(sa.String(200))

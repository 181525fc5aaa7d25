"""Points-mall items and redemptions (docs/architecture.md §5.14)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

ITEM_KINDS = ("goods", "coupon", "benefit_package", "app")
ITEM_STATUSES = ("draft", "on_sale", "off_sale")
LIMIT_PERIODS = ("day", "week", "month", "lifetime")


class MallItem(Versioned, Base):
    """Something customers redeem for ``points`` (and optionally ``cash`` fen on top).

    What it gives depends on ``kind``: a SKU of the shop's catalog (``sku_id``; its stock is the SKU's), an
    issued coupon (``coupon_id``), a benefit package (``package_id``) or an app's own item
    (``installation_id`` + ``app_item_code``). ``stock`` bounds the non-goods kinds (None: unlimited) and
    ``redeemed`` counts the units held by redemptions that are not cancelled or refunded."""

    __tablename__ = "points_mall_items"
    __table_args__ = (sa.Index("ix_points_mall_items_shop_status_sort", "shop_id", "status", "sort"),)

    id: Mapped[str] = id_column("pmi")
    shop_id: Mapped[str] = shop_column()
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.String(2000), default="")
    image_url: Mapped[str | None] = mapped_column(sa.String(500))
    sku_id: Mapped[str | None] = mapped_column(sa.String(64))
    coupon_id: Mapped[str | None] = mapped_column(sa.String(64))
    package_id: Mapped[str | None] = mapped_column(sa.String(64))
    installation_id: Mapped[str | None] = mapped_column(sa.String(64))
    app_item_code: Mapped[str | None] = mapped_column(sa.String(100))
    points: Mapped[int] = mapped_column(sa.BigInteger)
    cash: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # fen, on top of the points
    currency: Mapped[str] = mapped_column(sa.String(3))
    stock: Mapped[int | None] = mapped_column(sa.Integer)
    redeemed: Mapped[int] = mapped_column(sa.Integer, default=0)
    per_member_limit: Mapped[int | None] = mapped_column(sa.Integer)
    limit_period: Mapped[str] = mapped_column(sa.String(16), default="lifetime")
    min_level: Mapped[int | None] = mapped_column(sa.SmallInteger)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    sort: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()


class MallRedemption(Versioned, Base):
    """One customer's redemption of ``quantity`` of an item: points debited through the ledger against its
    order (``order_id``, channel ``points_mall``), which carries the cash part through the payment path."""

    __tablename__ = "points_mall_redemptions"
    __table_args__ = (
        sa.Index("ix_points_mall_redemptions_customer", "shop_id", "customer_id", "created_at"),
        sa.Index("ix_points_mall_redemptions_item_customer", "item_id", "customer_id", "created_at"),
        sa.Index("ix_points_mall_redemptions_ip", "shop_id", "ip", "created_at"),
        sa.Index("ix_points_mall_redemptions_device", "shop_id", "device_id", "created_at"),
    )

    id: Mapped[str] = id_column("pmr")
    shop_id: Mapped[str] = shop_column()
    item_id: Mapped[str] = mapped_column(sa.ForeignKey("points_mall_items.id"))
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("orders.id"), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    quantity: Mapped[int] = mapped_column(sa.Integer)
    points: Mapped[int] = mapped_column(sa.BigInteger)  # all units together
    cash: Mapped[int] = mapped_column(sa.BigInteger)  # fen, all units together
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(20))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    device_id: Mapped[str | None] = mapped_column(sa.String(128))
    risk_decision_id: Mapped[str | None] = mapped_column(sa.String(64))
    # What fulfilment made: wallet entry ids, a benefit grant id; an app's report (its reference or failure).
    fulfilment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = created_column()
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    fulfilled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refunded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

COUPON_KINDS = ("fixed", "percent", "threshold")
COUPON_STATUSES = ("active", "disabled")
REDEMPTION_STATUSES = ("reserved", "redeemed", "released")


class Coupon(Versioned, Base):
    """A coupon code, or an automatic promotion (``auto_apply``, usually without a code).

    ``value`` is fen for ``fixed`` and ``threshold`` (满减: spend ≥ ``min_spend`` → ``value`` off) and
    basis points off for ``percent`` (9折 = 1000), capped by ``max_discount``.
    """

    __tablename__ = "coupons"
    __table_args__ = (sa.UniqueConstraint("shop_id", "code"),)

    id: Mapped[str] = id_column("cpn")
    shop_id: Mapped[str] = shop_column()
    code: Mapped[str | None] = mapped_column(sa.String(64))  # stored upper case; codes are case-insensitive
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[int] = mapped_column(sa.BigInteger)
    min_spend: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    max_discount: Mapped[int | None] = mapped_column(sa.BigInteger)
    auto_apply: Mapped[bool] = mapped_column(default=False)
    stackable: Mapped[bool] = mapped_column(default=True)
    per_customer_limit: Mapped[int | None]
    total_limit: Mapped[int | None]
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    redeemed_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = created_column()


class CouponRedemption(Base):
    """One coupon used on one order: reserved at checkout, redeemed on payment, released on cancel."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (sa.UniqueConstraint("coupon_id", "order_id"),)

    id: Mapped[str] = id_column("crd")
    shop_id: Mapped[str] = shop_column()
    coupon_id: Mapped[str] = mapped_column(sa.ForeignKey("coupons.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    order_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16), default="reserved")
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()

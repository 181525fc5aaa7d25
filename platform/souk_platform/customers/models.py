from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column


class Customer(Versioned, Base):
    """A buyer in one shop. ``level`` is the member level 1–5 (V1–V5)."""

    __tablename__ = "customers"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "phone"),
        sa.UniqueConstraint("shop_id", "email"),
    )

    id: Mapped[str] = id_column("cus")
    shop_id: Mapped[str] = shop_column()
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    level: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    # Running totals kept by record_purchase/record_refund (net of refunds), for lists and segments.
    orders_count: Mapped[int] = mapped_column(default=0)
    total_spent: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_order_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When the member level last changed: the rules downgrade at most once per downgrade period
    # (members.services).
    level_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class CustomerPurchase(Base):
    """One paid order (positive amount) or refund (negative) of a customer: the facts windows read."""

    __tablename__ = "customer_purchases"
    __table_args__ = (
        sa.Index("ix_customer_purchases_customer_at", "customer_id", "at"),
        # One row per order purchase / per refund: retried calls never count twice.
        sa.UniqueConstraint("shop_id", "dedupe_key"),
    )

    id: Mapped[str] = id_column("cpf")
    shop_id: Mapped[str] = shop_column()
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    order_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # fen; negative for a refund
    counts_as_order: Mapped[bool] = mapped_column(default=True)  # False for refunds
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    dedupe_key: Mapped[str] = mapped_column(sa.String(200))  # "<order>:purchase" or "<order>:refund:<id|amount>"

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column

CART_STATUSES = ("open", "converted", "abandoned")


class Cart(Versioned, Base):
    """A buyer's cart; checkout converts it into exactly one order."""

    __tablename__ = "carts"
    __table_args__ = (sa.Index("ix_carts_shop_created", "shop_id", "created_at"),)  # the funnel report

    id: Mapped[str] = id_column("crt")
    shop_id: Mapped[str] = shop_column()
    customer_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    converted_order_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[dt.datetime] = created_column()
    # Set on every change to the cart or its lines, so the cart's version moves with them.
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart", order_by="CartLine.position", cascade="all, delete-orphan"
    )


class CartLine(Base):
    """One SKU in a cart; adding the same SKU again raises the quantity of its line."""

    __tablename__ = "cart_lines"
    __table_args__ = (sa.UniqueConstraint("cart_id", "sku_id"),)

    id: Mapped[str] = id_column("cln")
    cart_id: Mapped[str] = mapped_column(sa.ForeignKey("carts.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    sku_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = created_column()

    cart: Mapped[Cart] = relationship(back_populates="lines")

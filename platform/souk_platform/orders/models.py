"""Orders, order lines, payments and refunds (the data contract reports read: briefs/orders_contract)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column

ORDER_STATUSES = ("in_review", "pending_payment", "paid", "fulfilled", "completed", "cancelled")
SOLD_STATUSES = ("paid", "fulfilled", "completed")  # count as sales; refunds are allowed on these
_SOLD_SQL = "status IN ('paid', 'fulfilled', 'completed')"  # SOLD_STATUSES, for partial indexes
ORDER_CHANNELS = ("online", "store", "mini_program", "app", "social", "points_mall")  # where an order was placed
CHECKOUT_CHANNELS = ORDER_CHANNELS[:-1]  # points_mall orders are made by redemptions only (§5.14)


class Order(Versioned, Base):
    """An order. Money in fen; ``total`` is the cash the buyer pays:
    subtotal - discount_total + fee_total - points_value - stored_value_used (never below zero).

    ``subtotal`` is at the lines' prices after level perks (member price or the level's discount);
    ``member_discount_total`` is what those perks took off the list prices (docs/architecture.md §5.7)."""

    __tablename__ = "orders"
    __table_args__ = (
        sa.Index("ix_orders_shop_customer_created", "shop_id", "customer_id", "created_at"),
        sa.Index("ix_orders_shop_ip_created", "shop_id", "ip", "created_at"),
        sa.Index("ix_orders_shop_device_created", "shop_id", "device_id", "created_at"),
        # Reports: sales by paid time, the funnel by creation time.
        sa.Index("ix_orders_shop_paid", "shop_id", "paid_at"),
        sa.Index("ix_orders_shop_created", "shop_id", "created_at"),
        sa.Index("ix_orders_status_expires", "status", "reservation_expires_at"),
        # Filter fields (audience/): a customer's sold orders by time, read from the index alone on
        # PostgreSQL for counts, spend and last-order tests (docs/architecture.md §5.8).
        sa.Index(
            "ix_orders_sold_customer_paid",
            "shop_id",
            "customer_id",
            "paid_at",
            postgresql_include=["subtotal", "discount_total"],
            postgresql_where=sa.text(_SOLD_SQL),
            sqlite_where=sa.text(_SOLD_SQL),
        ),
    )

    id: Mapped[str] = id_column("ord")
    shop_id: Mapped[str] = shop_column()
    customer_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # None for a guest
    status: Mapped[str] = mapped_column(sa.String(20), default="pending_payment")
    currency: Mapped[str] = mapped_column(sa.String(3))
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    discount_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fee_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    points_spent: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    points_value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    stored_value_used: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int] = mapped_column(sa.BigInteger)
    refunded_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # cash + stored value refunded
    # What the pipeline decided, kept for display and for proportional refunds.
    discounts: Mapped[list[Any]] = mapped_column(default=list)  # [{coupon_id, code, label, amount}]
    # [{label, amount, kind?}]; a shipping fee waived by free shipping: amount 0, waived, original_amount, benefit_*_id
    fees: Mapped[list[Any]] = mapped_column(default=list)
    points_earned: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    points_revoked: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # earned points clawed back by refunds
    points_returned: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # spent points given back by refunds
    cashback_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # scheduled at payment
    # Level perks, as checkout found them: the buyer's level (None for a guest), what member prices and
    # the level's discount took off the list prices, and the points multiplier applied on payment.
    member_level: Mapped[int | None] = mapped_column(sa.SmallInteger)
    member_discount_total: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    points_multiplier_percent: Mapped[int] = mapped_column(sa.Integer, default=100, server_default="100")
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    device_id: Mapped[str | None] = mapped_column(sa.String(128))  # the buyer's device, if the client sent it (§5.13)
    # Where the order was placed (ORDER_CHANNELS; filter fields read it: docs/architecture.md §5.8).
    channel: Mapped[str] = mapped_column(sa.String(32), default="online", server_default="online")
    cart_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    reservation_expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    fulfilled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.position", cascade="all, delete-orphan")
    # Then by id (time-ordered): two made at one clock reading (a frozen clock, say) keep their order.
    payments: Mapped[list[Payment]] = relationship(order_by="(Payment.created_at, Payment.id)", viewonly=True)
    refunds: Mapped[list[Refund]] = relationship(order_by="(Refund.created_at, Refund.id)", viewonly=True)

    @property
    def money_paid(self) -> int:
        """Cash plus stored value: what refunds can give back."""
        return self.total + self.stored_value_used


def _unit_price(context: Any) -> int:
    return int(context.get_current_parameters()["unit_price"])


class OrderLine(Base):
    """A priced snapshot of one SKU at checkout; ``discount`` is this line's share of the order discount.

    ``unit_price`` is what the buyer pays as a member; ``list_price`` the SKU's price then, and ``member_perk``
    which perk made the difference: a level's (``member_price``, ``level_discount``), a benefit package's
    right (``benefit_price``, ``benefit_discount``, from ``benefit_grant_id`` — None for a level package —
    and ``benefit_package_id``), or None (docs/architecture.md §5.7, §5.10)."""

    __tablename__ = "order_lines"

    id: Mapped[str] = id_column("oln")
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    shop_id: Mapped[str] = shop_column()
    sku_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    product_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    # The product's category when the order was placed: a later re-categorisation does not rewrite history.
    category_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    unit_price: Mapped[int] = mapped_column(sa.BigInteger)
    # Defaults to ``unit_price``: a line written without level pricing was sold at its list price.
    list_price: Mapped[int] = mapped_column(sa.BigInteger, default=_unit_price)
    member_perk: Mapped[str | None] = mapped_column(sa.String(16))
    # The grant (or level package) whose right set the price; no foreign key: the order keeps its history.
    benefit_grant_id: Mapped[str | None] = mapped_column(sa.String(64))
    benefit_package_id: Mapped[str | None] = mapped_column(sa.String(64))
    quantity: Mapped[int] = mapped_column(sa.Integer)
    discount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    refunded_quantity: Mapped[int] = mapped_column(sa.Integer, default=0)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity - self.discount

    @property
    def member_discount(self) -> int:
        """What the member perk took off this line's list price, fen."""
        return (self.list_price - self.unit_price) * self.quantity


class Payment(Base):
    """One attempt to collect an order's cash total through a provider."""

    __tablename__ = "payments"

    id: Mapped[str] = id_column("pay")
    shop_id: Mapped[str] = shop_column()
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(20))  # "test", or "none" for a zero-cash order
    provider_reference: Mapped[str | None] = mapped_column(sa.String(100))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")  # pending | succeeded | failed
    failure_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = created_column()
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Refund(Base):
    """Money given back on a paid order: ``amount`` in cash, then ``stored_value_amount``."""

    __tablename__ = "refunds"

    id: Mapped[str] = id_column("rfd")
    shop_id: Mapped[str] = shop_column()
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    stored_value_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    points_returned: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # spent points given back
    points_revoked: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # earned points clawed back
    reason: Mapped[str] = mapped_column(sa.String(500))
    restock: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(20), default="succeeded")
    lines: Mapped[list[Any]] = mapped_column(default=list)  # [{line_id, quantity}]
    created_at: Mapped[dt.datetime] = created_column()

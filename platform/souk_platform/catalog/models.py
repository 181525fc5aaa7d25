"""Categories, products and their tags, SKUs, stock reservations and the inventory audit trail."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

PRODUCT_STATUSES = ("draft", "active", "archived")
RESERVATION_STATUSES = ("active", "committed", "released")

# Upper bounds that keep every stock figure inside a 32-bit column whatever the input.
MAX_ON_HAND = 1_000_000_000
MAX_PRICE = 10**12  # fen

MAX_CATEGORY_DEPTH = 3  # a root is depth 1
MAX_CATEGORIES = 1000  # per shop: GET /categories returns the whole tree in one response
MAX_TAGS = 20  # per product
DEFAULT_CATEGORY_NAME = "未分类"


class Category(Versioned, Base):
    """A node of the shop's category tree (at most ``MAX_CATEGORY_DEPTH`` levels; docs/architecture.md §5.1).

    ``sibling_key`` is ``"<parent id or empty>/<casefolded name>"``: its unique constraint keeps names
    unique among siblings whatever their case, roots included (a NULL parent would escape a plain one).
    Every product has a category; each shop has one ``is_default`` category, which cannot be deleted.
    """

    __tablename__ = "categories"
    __table_args__ = (sa.UniqueConstraint("shop_id", "sibling_key"),)

    id: Mapped[str] = id_column("cat")
    shop_id: Mapped[str] = shop_column()
    parent_id: Mapped[str | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    sibling_key: Mapped[str] = mapped_column(sa.String(130))
    position: Mapped[int] = mapped_column(default=0)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = created_column()


class ProductTag(Base):
    """One tag of a product (free text, unique per product); ``GET /products?tag=`` filters on it."""

    __tablename__ = "product_tags"
    __table_args__ = (sa.Index("ix_product_tags_shop_id_tag", "shop_id", "tag"),)

    product_id: Mapped[str] = mapped_column(sa.ForeignKey("products.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    shop_id: Mapped[str] = shop_column()


class Product(Versioned, Base):
    """Something a shop sells; only ``active`` products can be sold, ``archived`` is the soft delete."""

    __tablename__ = "products"

    id: Mapped[str] = id_column("prd")
    shop_id: Mapped[str] = shop_column()
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    category_id: Mapped[str] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()

    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.id")
    tag_rows: Mapped[list[ProductTag]] = relationship(order_by="ProductTag.tag", cascade="all, delete-orphan")

    @property
    def tags(self) -> list[str]:
        """The product's tags in code-point order (how the API lists them)."""
        return [row.tag for row in self.tag_rows]


class Sku(Versioned, Base):
    """A sellable variant of a product with its price and stock.

    ``reserved`` is held by unpaid orders; ``available = on_hand - reserved`` is what can still be sold.
    """

    __tablename__ = "skus"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "code"),
        sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        sa.CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
    )

    id: Mapped[str] = id_column("sku")
    shop_id: Mapped[str] = shop_column()
    product_id: Mapped[str] = mapped_column(sa.ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(200))
    price: Mapped[int] = mapped_column(sa.BigInteger)  # fen
    currency: Mapped[str] = mapped_column(sa.String(3))
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = created_column()

    product: Mapped[Product] = relationship(back_populates="skus")

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockReservation(Base):
    """Stock held for one line of an unpaid order (``ref``) until it is committed, released or expires."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        sa.UniqueConstraint("ref", "sku_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.Index("ix_stock_reservations_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[str] = id_column("rsv")
    shop_id: Mapped[str] = shop_column()
    ref: Mapped[str] = mapped_column(sa.String(64))
    sku_id: Mapped[str] = mapped_column(sa.ForeignKey("skus.id"), index=True)
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class InventoryAdjustment(Base):
    """One change of a SKU's ``on_hand`` (manual count, sale, refund restock): the stock audit trail."""

    __tablename__ = "inventory_adjustments"

    id: Mapped[str] = id_column("adj")
    shop_id: Mapped[str] = shop_column()
    sku_id: Mapped[str] = mapped_column(sa.ForeignKey("skus.id"), index=True)
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(200))
    ref: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # the order or refund, if any
    on_hand_after: Mapped[int]
    created_at: Mapped[dt.datetime] = created_column()

    sku: Mapped[Sku] = relationship()

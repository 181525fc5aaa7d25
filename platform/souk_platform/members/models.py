"""Per-shop member-level rules and perks, member prices, and the history of every customer's level changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column


class MemberLevelConfig(Versioned, Base):
    """A shop's V1–V5 names and rules (validated by ``members.services.save_level_config``).

    ``levels`` is five entries ``{"level", "name", "upgrade", "keep", "discount_bps",
    "points_multiplier_percent"}``; ``upgrade``/``keep`` are ``{"match": "any"|"all", "spend", "orders",
    "points", "category"}`` thresholds over the last ``window_days`` (``category``: ``{"category_id",
    "spend", "orders"}`` counted in that category's subtree). The perks are read by
    ``members.perks`` (docs/architecture.md §5.7); entries saved before them have neither key.
    """

    __tablename__ = "member_level_configs"

    id: Mapped[str] = id_column("mlc")
    shop_id: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("shops.id"), unique=True)
    window_days: Mapped[int] = mapped_column(default=365)
    downgrade_period_days: Mapped[int] = mapped_column(default=30)
    levels: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[dt.datetime] = updated_column()


class MemberLevelChange(Base):
    """One change of a customer's level: by the rules (with the stats that decided it) or by hand."""

    __tablename__ = "member_level_changes"
    __table_args__ = (sa.Index("ix_member_level_changes_customer_id_id", "customer_id", "id"),)

    id: Mapped[str] = id_column("mlh")
    shop_id: Mapped[str] = shop_column()
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    from_level: Mapped[int] = mapped_column(sa.SmallInteger)
    to_level: Mapped[int] = mapped_column(sa.SmallInteger)
    source: Mapped[str] = mapped_column(sa.String(16))  # "rule" or "manual"
    reason: Mapped[str] = mapped_column(sa.String(500))
    stats: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MemberPrice(Versioned, Base):
    """The price members of one level pay for one SKU, in fen of the SKU's currency (会员价).

    It wins over the level's ``discount_bps`` for that SKU; a member never pays more than the list price
    (``members.perks.member_unit_prices``, docs/architecture.md §5.7).
    """

    __tablename__ = "member_prices"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "sku_id", "level"),
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="level_1_to_5"),
    )

    id: Mapped[str] = id_column("mpr")
    shop_id: Mapped[str] = shop_column()
    sku_id: Mapped[str] = mapped_column(sa.ForeignKey("skus.id"), index=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    price: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()

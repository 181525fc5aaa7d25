from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, created_column, id_column, shop_column


class PointsLot(Base):
    """Points credited to a customer at one time, spent and expired first-in first-out by ``expires_at``.

    The sum of a customer's ``remaining`` equals their ``customer.points`` ledger balance: every credit
    creates a lot and every debit consumes lots, always while holding the ledger account's row lock.
    """

    __tablename__ = "points_lots"
    __table_args__ = (sa.Index("ix_points_lots_customer_expiry", "shop_id", "customer_id", "expires_at"),)

    id: Mapped[str] = id_column("plt")
    shop_id: Mapped[str] = shop_column()
    customer_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    points: Mapped[int] = mapped_column(sa.BigInteger)
    remaining: Mapped[int] = mapped_column(sa.BigInteger)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    reference: Mapped[str | None] = mapped_column(sa.String(64))
    # The ledger transfer's dedupe key: the same award never creates a second lot.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    transfer_id: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = created_column()

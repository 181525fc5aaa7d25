from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column

CASHBACK_STATUSES = ("pending", "credited", "cancelled")


class CashbackSchedule(Versioned, Base):
    """Cashback an order earned, credited into stored value once its refund window has passed."""

    __tablename__ = "cashback_schedules"

    id: Mapped[str] = id_column("cbk")
    shop_id: Mapped[str] = shop_column()
    order_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    customer_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    original_amount: Mapped[int] = mapped_column(sa.BigInteger)  # fen, as scheduled
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # fen, after partial refunds
    currency: Mapped[str] = mapped_column(sa.String(3))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    credited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    transfer_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = created_column()

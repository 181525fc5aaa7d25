from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, created_column, id_column


class OutboxEvent(Base):
    """One thing that happened, written with the change itself; the source of truth for delivery."""

    __tablename__ = "outbox_events"
    __table_args__ = (sa.Index("ix_outbox_events_shop_type", "shop_id", "type"),)

    id: Mapped[str] = id_column("evt")
    shop_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # None: platform-level
    type: Mapped[str] = mapped_column(sa.String(100))
    subject_type: Mapped[str] = mapped_column(sa.String(50))
    subject_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = created_column()
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)

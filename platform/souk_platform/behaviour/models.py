"""Behaviour events recorded for customers, each with its scene (channel, campaign, store)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, id_column, shop_column


class CustomerEvent(Base):
    """One thing a customer did, as the sender reported it; stored once per sender ``event_id``."""

    __tablename__ = "customer_events"
    __table_args__ = (
        # Idempotency per event: a re-sent batch inserts nothing twice (INSERT … ON CONFLICT DO NOTHING).
        sa.UniqueConstraint("shop_id", "event_id"),
        sa.Index("ix_customer_events_shop_customer_occurred", "shop_id", "customer_id", "occurred_at"),
        sa.Index("ix_customer_events_shop_type_occurred", "shop_id", "type", "occurred_at"),
    )

    id: Mapped[str] = id_column("cev")
    shop_id: Mapped[str] = shop_column()
    event_id: Mapped[str] = mapped_column(sa.String(64))  # the sender's id
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    type: Mapped[str] = mapped_column(sa.String(32))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The scene of the event (issue 16's scene tags): where it happened, usable in conditions.
    channel: Mapped[str | None] = mapped_column(sa.String(64))
    campaign: Mapped[str | None] = mapped_column(sa.String(64))
    store: Mapped[str | None] = mapped_column(sa.String(64))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)

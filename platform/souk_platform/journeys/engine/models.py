"""The engine's own tables (docs/architecture.md §5.12): the inbox of events some journey listens to, and the
record of periodic triggers already fired."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, created_column, shop_column

INBOX_SOURCES = ("outbox", "behaviour")


class JourneyInboxEvent(Base):
    """An event handed to the engine: an outbox event (taken by the webhook dispatcher) or a behaviour event
    (recorded by ``POST /customer-events``) whose type some live journey of the shop listens to. The intake job
    claims rows with ``SKIP LOCKED`` and deletes each in the transaction that acts on it."""

    __tablename__ = "journey_inbox"
    __table_args__ = (sa.UniqueConstraint("source", "event_id"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    shop_id: Mapped[str] = shop_column()
    source: Mapped[str] = mapped_column(sa.String(16))
    event_id: Mapped[str] = mapped_column(sa.String(64))
    event_type: Mapped[str] = mapped_column(sa.String(100))
    customer_id: Mapped[str | None] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class JourneyTriggerRun(Base):
    """One occurrence of a schedule or date trigger that has fired (``schedule:<time>``, ``date:<shop day>``):
    the primary key makes a timer that runs twice fire it once."""

    __tablename__ = "journey_trigger_runs"

    journey_id: Mapped[str] = mapped_column(sa.ForeignKey("journeys.id"), primary_key=True)
    occurrence: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    shop_id: Mapped[str] = shop_column()
    enrolled: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = created_column()

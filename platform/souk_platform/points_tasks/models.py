"""Earning tasks and their completions (docs/architecture.md §5.15).

A completion is the one record that a customer did a task: its unique keys make paying twice impossible —
one per (task, customer, slot), the slot being the task's period (a shop-local day, ISO week, month or
``once``) or ``ref:<reference>`` when the task pays per reference, and one per (task, reference).
A daily sign-in is a completion of the shop's ``daily_sign_in`` task.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

TASK_KINDS = ("daily_sign_in", "complete_profile", "first_order", "post_review", "invite_friend")
TASK_STATUSES = ("active", "paused")
PERIODS = ("day", "week", "month", "once")
COMPLETION_STATUSES = ("completed", "in_review", "rejected")


class PointsTask(Versioned, Base):
    """What a customer does to earn ``points``, how often (``period``, caps) and when (the window)."""

    __tablename__ = "points_tasks"

    id: Mapped[str] = id_column("ptk")
    shop_id: Mapped[str] = shop_column()
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(24))
    points: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    period: Mapped[str | None] = mapped_column(sa.String(8))  # None: each reference pays (caps permitting)
    daily_cap: Mapped[int | None]  # completions per customer per shop-local day
    total_cap: Mapped[int | None]  # completions per customer, ever
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # daily_sign_in: {"streak_bonuses": [{"days": 7, "points": 50}]}; complete_profile: {"profile_fields": [...]};
    # invite_friend: {"when": "registered" | "first_order"}
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()


class PointsTaskCompletion(Base):
    """One customer doing one task once; its points are awarded through the ledger (dedupe key per completion)."""

    __tablename__ = "points_task_completions"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "customer_id", "slot"),
        sa.UniqueConstraint("task_id", "reference"),
        sa.Index("ix_points_task_completions_customer_day", "shop_id", "customer_id", "local_date"),
        sa.Index("ix_points_task_completions_ip", "shop_id", "ip", "created_at"),
        sa.Index("ix_points_task_completions_device", "shop_id", "device_id", "created_at"),
    )

    id: Mapped[str] = id_column("ptc")
    shop_id: Mapped[str] = shop_column()
    task_id: Mapped[str] = mapped_column(sa.ForeignKey("points_tasks.id"), index=True)
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(sa.String(24))  # the task's kind, kept for the risk figures
    slot: Mapped[str] = mapped_column(sa.String(80))
    reference: Mapped[str | None] = mapped_column(sa.String(64))
    local_date: Mapped[dt.date] = mapped_column(sa.Date)  # the shop-local day it happened
    points: Mapped[int] = mapped_column(sa.Integer)  # base + bonus, awarded or held
    bonus_points: Mapped[int] = mapped_column(sa.Integer, default=0)
    streak: Mapped[int | None]  # daily sign-in: consecutive days including this one
    status: Mapped[str] = mapped_column(sa.String(16))
    decision_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    device_id: Mapped[str | None] = mapped_column(sa.String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()

"""Journeys (营销画布): a graph of nodes customers move through, its frozen versions, each customer's
enrolment and every step it took (docs/architecture.md §5.12).

The graph is JSON (``Journey.graph``, frozen in ``JourneyVersion.graph``)::

    {"entry": "start",
     "nodes": {"start": {"type": "trigger", "params": {...}, "next": {"default": "wait1"}, "position": {...}},
               "wait1": {"type": "wait", "params": {...}, "next": {"default": "cond"}},
               ...},
     "goal": {"event": "order.paid", "within_days": 7} | null,
     "exit": [{"kind": "event", "event": "..."} | {"kind": "segment_left", "segment_id": "..."}],
     "settings": {"reentry": "never" | "after_exit" | {"after_days": N}}}

Every node's ``next`` maps an exit name to the next node id: ``default`` for single-exit nodes; ``event`` and
``timeout`` for a wait until an event; ``yes``/``no`` for a condition; each variant key and ``holdout`` for a split.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

JOURNEY_STATUSES = ("draft", "active", "paused", "archived")
NODE_TYPES = ("trigger", "wait", "condition", "split", "action", "exit")
# waiting: asleep until ``wake_at`` or an event; ready: due for its next step now; the rest are final.
ENROLLMENT_STATUSES = ("ready", "waiting", "completed", "exited")
STEP_STATUSES = ("done", "skipped", "failed")


class Journey(Versioned, Base):
    """A journey and its working copy of the graph. A draft's graph is edited in place; activating freezes it
    into a version, and editing an active journey freezes a new version at once (``current_version_id``):
    customers already inside finish on the version they entered."""

    __tablename__ = "journeys"

    id: Mapped[str] = id_column("jny")
    shop_id: Mapped[str] = shop_column()
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    graph: Mapped[dict[str, Any]] = mapped_column(default=dict)
    template_key: Mapped[str | None] = mapped_column(sa.String(50))
    current_version_id: Mapped[str | None] = mapped_column(sa.String(64))
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()


class JourneyVersion(Base):
    """A frozen graph; never changes once written."""

    __tablename__ = "journey_versions"
    __table_args__ = (sa.UniqueConstraint("journey_id", "number"),)

    id: Mapped[str] = id_column("jvr")
    shop_id: Mapped[str] = shop_column()
    journey_id: Mapped[str] = mapped_column(sa.ForeignKey("journeys.id"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    graph: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = created_column()


class JourneyEnrollment(Versioned, Base):
    """One customer's pass through one version of a journey: where they are and why."""

    __tablename__ = "journey_enrollments"
    __table_args__ = (
        # One enrolment per entry: ``entry_key`` is "once" (never re-enter), the previous exit's id, or a
        # period, so a trigger delivered twice enrols once (docs/architecture.md §5.12).
        sa.UniqueConstraint("journey_id", "customer_id", "entry_key"),
        sa.Index("ix_journey_enrollments_status_wake_at", "status", "wake_at"),
        sa.Index("ix_journey_enrollments_journey_node", "journey_id", "current_node"),
        sa.Index("ix_journey_enrollments_customer_waiting", "customer_id", "waiting_event"),
    )

    id: Mapped[str] = id_column("jen")
    shop_id: Mapped[str] = shop_column()
    journey_id: Mapped[str] = mapped_column(sa.ForeignKey("journeys.id"))
    version_id: Mapped[str] = mapped_column(sa.ForeignKey("journey_versions.id"))
    customer_id: Mapped[str] = mapped_column(sa.ForeignKey("customers.id"))
    entry_key: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(16), default="ready")
    current_node: Mapped[str] = mapped_column(sa.String(64))
    # The split's branch taken (a variant key, or "holdout"); null before any split.
    variant: Mapped[str | None] = mapped_column(sa.String(32))
    # A wait: when to wake (a duration, a time of day, a date, or an event wait's timeout) ...
    wake_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # ... and, for a wait until an event, the event type that wakes it early.
    waiting_event: Mapped[str | None] = mapped_column(sa.String(100))
    steps_taken: Mapped[int] = mapped_column(sa.Integer, default=0)
    trigger_event_id: Mapped[str | None] = mapped_column(sa.String(64))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    exited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    exit_reason: Mapped[str | None] = mapped_column(sa.String(32))  # completed | goal | exit_rule | manual | ...
    goal_reached_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    goal_event_id: Mapped[str | None] = mapped_column(sa.String(64))
    goal_revenue: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # fen, from the goal event's order
    updated_at: Mapped[dt.datetime] = updated_column()


class JourneyStep(Base):
    """One step an enrolment took at one node. ``(enrollment_id, seq)`` is unique: the step's idempotency key
    (``journey:<enrollment>:<seq>``) is what its action hands to the coupon wallet, the ledger and the
    message log, so a step redone after a crash acts once."""

    __tablename__ = "journey_steps"
    __table_args__ = (
        sa.UniqueConstraint("enrollment_id", "seq"),
        sa.Index("ix_journey_steps_journey_node", "journey_id", "node_id"),
    )

    id: Mapped[str] = id_column("jst")
    shop_id: Mapped[str] = shop_column()
    journey_id: Mapped[str] = mapped_column(sa.ForeignKey("journeys.id"))
    enrollment_id: Mapped[str] = mapped_column(sa.ForeignKey("journey_enrollments.id"))
    seq: Mapped[int] = mapped_column(sa.Integer)
    node_id: Mapped[str] = mapped_column(sa.String(64))
    node_type: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="done")
    # The exit taken ("default", "yes", a variant key ...) and what the step did (a wallet coupon, a message id,
    # a ledger transfer), or why it did nothing (a frequency cap, a coupon no longer issuable).
    exit_taken: Mapped[str | None] = mapped_column(sa.String(32))
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = created_column()

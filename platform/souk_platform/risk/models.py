"""Risk decisions, block/allow lists and reviews (docs/architecture.md §5.13)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from souk_platform.db import Base, UTCDateTime, Versioned, created_column, id_column, shop_column, updated_column

ACTIONS = ("checkout", "redemption", "coupon_claim", "sign_in", "points_task")  # what is being decided on
OUTCOMES = ("allow", "review", "deny")
RULE_OUTCOMES = ("review", "deny")  # what a built-in rule that fires asks for
LISTS = ("block", "allow")
LIST_KINDS = ("customer", "ip", "device")
REVIEW_STATUSES = ("open", "approved", "rejected")
EXPIRY_ACTIONS = ("release", "cancel")  # what an open review becomes when its time is up


class RiskDecision(Base):
    """One evaluation's outcome, with the rules that fired (their figures) and the inputs to replay it.

    Written for every evaluation: an allowed or reviewed checkout commits it with the order; a denial is
    written again after the checkout's rollback (``risk.decision_log``), so it outlives it."""

    __tablename__ = "risk_decisions"
    __table_args__ = (
        sa.Index("ix_risk_decisions_shop_created", "shop_id", "created_at"),
        sa.Index("ix_risk_decisions_shop_customer", "shop_id", "customer_id"),
        sa.Index("ix_risk_decisions_shop_ip", "shop_id", "ip"),
    )

    id: Mapped[str] = id_column("rkd")
    shop_id: Mapped[str] = shop_column()
    action: Mapped[str] = mapped_column(sa.String(16))
    subject_type: Mapped[str] = mapped_column(sa.String(16))  # order | customer
    subject_id: Mapped[str] = mapped_column(sa.String(64))
    customer_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    device_id: Mapped[str | None] = mapped_column(sa.String(128))
    outcome: Mapped[str] = mapped_column(sa.String(8))
    # ",rule_a,rule_b," — the names of the rules that fired, for the list's rule filter on any database
    rule_names: Mapped[str] = mapped_column(sa.String(500), default="")
    # [{rule, source: list|rule|plugin, outcome, seen, threshold, window_minutes, reason, …}]
    rules: Mapped[list[Any]] = mapped_column(default=list)
    # what the rules read (stats, order value, account age, thresholds): enough to replay the decision
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = created_column()


class RiskListEntry(Versioned, Base):
    """A customer, IP or device id on the shop's block or allow list, until ``expires_at`` (None: for good)."""

    __tablename__ = "risk_list_entries"
    __table_args__ = (sa.UniqueConstraint("shop_id", "list", "kind", "value"),)

    id: Mapped[str] = id_column("rkl")
    shop_id: Mapped[str] = shop_column()
    list: Mapped[str] = mapped_column(sa.String(8))
    kind: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[str] = mapped_column(sa.String(128))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = updated_column()


class RiskReview(Versioned, Base):
    """An order held ``in_review`` by a decision, until a person (or the expiry rule) approves or rejects it."""

    __tablename__ = "risk_reviews"
    __table_args__ = (sa.Index("ix_risk_reviews_status_expires", "status", "expires_at"),)

    id: Mapped[str] = id_column("rkr")
    shop_id: Mapped[str] = shop_column()
    decision_id: Mapped[str] = mapped_column(sa.ForeignKey("risk_decisions.id"))
    action: Mapped[str] = mapped_column(sa.String(16))
    order_id: Mapped[str] = mapped_column(sa.ForeignKey("orders.id"), unique=True)
    customer_id: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(sa.String(16))  # staff | api | expiry
    note: Mapped[str | None] = mapped_column(sa.String(200))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()

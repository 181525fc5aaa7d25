"""Segment snapshots (固化人群包): a segment's members frozen at one moment, and their conversion afterwards.

A dynamic segment is computed on every read; a snapshot copies who matched at ``taken_at`` into
``segment_snapshot_members`` with one ``INSERT … SELECT``, so a campaign aimed at it reaches exactly
those customers however the facts change later, and "who bought within N days" can be measured
against a fixed list (docs/architecture.md §5.6).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.core.ids import new_id
from souk_platform.customers.models import Customer, CustomerPurchase
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.tags.conditions import compile_condition
from souk_platform.tags.errors import SnapshotNotFound
from souk_platform.tags.models import SegmentSnapshot, SegmentSnapshotMember
from souk_platform.tags.services import _clean_name, check_condition, get_segment

MAX_CONVERSION_DAYS = 365
DEFAULT_CONVERSION_DAYS = 7


@dataclass(frozen=True, slots=True)
class Conversion:
    """Who of a snapshot's members paid for an order in ``[taken_at, taken_at + days)``."""

    days: int
    window_ends_at: dt.datetime
    complete: bool  # the window is over, so the figures are final
    members: int
    converted: int
    orders: int
    revenue: int  # fen: what the converting orders were paid (refunds are not subtracted)

    @property
    def rate(self) -> float:
        return round(self.converted / self.members, 4) if self.members else 0.0


def snapshot_payload(snapshot: SegmentSnapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "segment_id": snapshot.segment_id,
        "segment_name": snapshot.segment_name,
        "name": snapshot.name,
        "condition": snapshot.condition,
        "member_count": snapshot.member_count,
        "taken_at": snapshot.taken_at.isoformat(),
    }


def _emit(session: DbSession, snapshot: SegmentSnapshot, type: str) -> None:
    emit(
        session,
        shop_id=snapshot.shop_id,
        type=type,
        subject_type="segment_snapshot",
        subject_id=snapshot.id,
        payload=snapshot_payload(snapshot),
    )


def take_snapshot(
    session: DbSession, *, shop_id: str, segment_id: str, name: str | None, now: dt.datetime
) -> SegmentSnapshot:
    """Freeze who matches the segment now; the members are copied in one statement."""
    segment = get_segment(session, shop_id=shop_id, segment_id=segment_id)
    check_condition(session, shop_id=shop_id, condition=segment.condition)
    snapshot = SegmentSnapshot(
        id=new_id("sns"),
        shop_id=shop_id,
        segment_id=segment.id,
        segment_name=segment.name,
        name=_clean_name(name) if name else f"{segment.name} {now:%Y-%m-%d %H:%M}"[:100],
        condition=segment.condition,
        taken_at=now,
    )
    session.add(snapshot)
    session.flush()
    matching = sa.select(sa.literal(snapshot.id), Customer.id, Customer.shop_id).where(
        Customer.shop_id == shop_id, compile_condition(segment.condition, shop_id=shop_id, now=now)
    )
    session.execute(sa.insert(SegmentSnapshotMember).from_select(["snapshot_id", "customer_id", "shop_id"], matching))
    snapshot.member_count = int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(SegmentSnapshotMember)
            .where(SegmentSnapshotMember.snapshot_id == snapshot.id)
        )
        or 0
    )
    session.flush()
    _emit(session, snapshot, "segment.snapshot_created")
    return snapshot


def get_snapshot(session: DbSession, *, shop_id: str, snapshot_id: str) -> SegmentSnapshot:
    snapshot = session.scalar(
        sa.select(SegmentSnapshot).where(SegmentSnapshot.id == snapshot_id, SegmentSnapshot.shop_id == shop_id)
    )
    if snapshot is None:
        raise SnapshotNotFound(f"No segment snapshot {snapshot_id} in this shop.")
    return snapshot


def snapshots_stmt(*, shop_id: str, segment_id: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(SegmentSnapshot).where(SegmentSnapshot.shop_id == shop_id)
    if segment_id is not None:
        stmt = stmt.where(SegmentSnapshot.segment_id == segment_id)
    return stmt


def delete_snapshot(session: DbSession, *, shop_id: str, snapshot_id: str) -> None:
    snapshot = get_snapshot(session, shop_id=shop_id, snapshot_id=snapshot_id)
    _emit(session, snapshot, "segment.snapshot_deleted")
    session.execute(sa.delete(SegmentSnapshotMember).where(SegmentSnapshotMember.snapshot_id == snapshot.id))
    session.delete(snapshot)
    session.flush()


def member_ids_stmt(snapshot: SegmentSnapshot) -> sa.Select[Any]:
    """The ids of a snapshot's members (for campaigns that aim at it, such as coupon issues)."""
    return sa.select(SegmentSnapshotMember.customer_id).where(
        SegmentSnapshotMember.snapshot_id == snapshot.id, SegmentSnapshotMember.shop_id == snapshot.shop_id
    )


def _window(snapshot: SegmentSnapshot, days: int) -> tuple[dt.datetime, dt.datetime]:
    return snapshot.taken_at, snapshot.taken_at + dt.timedelta(days=days)


def _converting_purchases(snapshot: SegmentSnapshot, days: int) -> sa.Select[str, int]:
    start, end = _window(snapshot, days)
    return sa.select(CustomerPurchase.customer_id, CustomerPurchase.amount).where(
        CustomerPurchase.shop_id == snapshot.shop_id,
        CustomerPurchase.counts_as_order.is_(True),
        CustomerPurchase.at >= start,
        CustomerPurchase.at < end,
        CustomerPurchase.customer_id.in_(member_ids_stmt(snapshot)),
    )


def conversion(session: DbSession, *, snapshot: SegmentSnapshot, days: int, now: dt.datetime) -> Conversion:
    """How many members bought, how often and for how much within ``days`` of the snapshot."""
    purchases = _converting_purchases(snapshot, days).subquery()
    converted, orders, revenue = session.execute(
        sa.select(
            sa.func.count(sa.distinct(purchases.c.customer_id)),
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(purchases.c.amount), 0),
        )
    ).one()
    _, end = _window(snapshot, days)
    return Conversion(
        days=days,
        window_ends_at=end,
        complete=now >= end,
        members=snapshot.member_count,
        converted=int(converted),
        orders=int(orders),
        revenue=int(revenue),
    )


def snapshot_customers_stmt(snapshot: SegmentSnapshot, *, converted: bool | None, days: int) -> sa.Select[Any]:
    """``SELECT customers`` in the snapshot; with ``converted``, only those who did (or did not) buy."""
    stmt = sa.select(Customer).where(Customer.shop_id == snapshot.shop_id, Customer.id.in_(member_ids_stmt(snapshot)))
    if converted is not None:
        buyers = Customer.id.in_(_converting_purchases(snapshot, days).with_only_columns(CustomerPurchase.customer_id))
        stmt = stmt.where(buyers if converted else sa.not_(buyers))
    return stmt

"""The points liability report (积分负债, docs/architecture.md §5.15): what the shop owes in points today, what
will expire soon, and points issued against points redeemed (spent + expired) per shop-local month.

Four statements whatever the number of customers, lots or movements: the shop, one sum over the customers'
points accounts, one over the unexpired lots, one grouped over the last twelve months' ledger entries (each
entry's month given by a ``CASE`` on local-midnight instants computed in Python, as the sales reports do).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_platform.core.money import POINTS
from souk_platform.db import DbSession
from souk_platform.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from souk_platform.points.models import PointsLot
from souk_platform.reports.services import local_midnight, shop_zone
from souk_platform.shops.models import Shop
from souk_platform.shops.services import shop_setting

__all__ = ["MONTHS", "points_liability"]

MONTHS = 12
SOON = (30, 90)  # days ahead for the "expiring within" figures


def _months(today: dt.date) -> list[dt.date]:
    """The first days of the last ``MONTHS`` months, oldest first, the current one last."""
    firsts = [today.replace(day=1)]
    for _ in range(MONTHS - 1):
        firsts.insert(0, (firsts[0] - dt.timedelta(days=1)).replace(day=1))
    return firsts


def points_liability(session: DbSession, *, shop: Shop, now: dt.datetime) -> dict[str, Any]:
    """Outstanding points and their worth in fen, points expiring within 30 and 90 days (lots already due but
    not yet expired by the timer count as expiring), and per month: issued (every credit to a customer),
    spent, expired, other debits (revoked on refunds, deducted by hand) and redeemed = spent + expired."""
    value = int(shop_setting(shop, "points_value_fen"))
    outstanding = int(
        session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerAccount.balance), 0)).where(
                LedgerAccount.shop_id == shop.id,
                LedgerAccount.kind == "customer.points",
                LedgerAccount.unit == POINTS,
            )
        )
        or 0
    )
    soon = session.execute(
        sa.select(
            *[
                sa.func.coalesce(
                    sa.func.sum(
                        sa.case((PointsLot.expires_at <= now + dt.timedelta(days=days), PointsLot.remaining), else_=0)
                    ),
                    0,
                ).label(f"within_{days}")
                for days in SOON
            ]
        ).where(PointsLot.shop_id == shop.id, PointsLot.remaining > 0)
    ).one()
    zone = shop_zone(shop.timezone or "UTC")
    firsts = _months(now.astimezone(zone).date())
    following = (firsts[-1].replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    edges = [local_midnight(day, zone) for day in [*firsts, following]]
    inner = edges[1:-1]
    bucket = sa.case(*[(LedgerEntry.created_at < edge, i) for i, edge in enumerate(inner)], else_=len(inner))
    debit = -LedgerEntry.amount

    def debits_of(*kinds: str) -> Any:
        return sa.func.sum(sa.case((sa.and_(LedgerEntry.amount < 0, LedgerTransfer.kind.in_(kinds)), debit), else_=0))

    rows = session.execute(
        sa.select(
            bucket.label("bucket"),
            sa.func.sum(sa.case((LedgerEntry.amount > 0, LedgerEntry.amount), else_=0)).label("issued"),
            debits_of("points.spend").label("spent"),
            debits_of("points.expire").label("expired"),
            sa.func.sum(sa.case((LedgerEntry.amount < 0, debit), else_=0)).label("debited"),
        )
        .select_from(LedgerEntry)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .join(LedgerTransfer, LedgerTransfer.id == LedgerEntry.transfer_id)
        .where(
            LedgerAccount.shop_id == shop.id,
            LedgerAccount.kind == "customer.points",
            LedgerEntry.created_at >= edges[0],
            LedgerEntry.created_at < edges[-1],
        )
        .group_by(bucket)
    )
    by_month = {int(row.bucket): row for row in rows}
    months = []
    for i, first in enumerate(firsts):
        row = by_month.get(i)
        issued, spent, expired, debited = (
            (int(row.issued or 0), int(row.spent or 0), int(row.expired or 0), int(row.debited or 0))
            if row is not None
            else (0, 0, 0, 0)
        )
        months.append(
            {
                "month": f"{first.year}-{first.month:02d}",
                "issued": issued,
                "spent": spent,
                "expired": expired,
                "redeemed": spent + expired,
                "other_debits": debited - spent - expired,
            }
        )
    return {
        "outstanding_points": outstanding,
        "point_value_fen": value,
        "outstanding_value": outstanding * value,
        "currency": shop.currency,
        "expiring_within_30_days": int(soon.within_30),
        "expiring_within_90_days": int(soon.within_90),
        "timezone": zone.key,
        "months": months,
        "as_of": now,
    }

"""Monthly invoices in the shop's time zone."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppCharge, ChargeRefund, Invoice
from souk_marketplace.billing.services.lookups import app_names
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def month_bounds(timezone: str, year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where a calendar month begins and ends in ``timezone``."""
    zone = _zone(timezone)
    start = dt.datetime(year, month, 1, tzinfo=zone)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def issue_invoice(session: DbSession, *, shop_id: str, year: int, month: int, now: dt.datetime) -> Invoice | None:
    """The shop's invoice for a calendar month of its timezone: every app charge paid and refund made in it.

    Issued once (a second call returns the first); None when the month had no charges or refunds;
    ``MonthNotOver`` (409) before the month has ended.
    """
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise errors.InvoiceNotFound(f"No shop {shop_id}.")
    start, end = month_bounds(shop.timezone, year, month)
    if end > now:
        raise errors.MonthNotOver(f"{year:04d}-{month:02d} has not ended yet in {shop.timezone}.")
    label = f"{year:04d}-{month:02d}"
    existing = session.scalar(sa.select(Invoice).where(Invoice.shop_id == shop_id, Invoice.month == label))
    if existing is not None:
        return existing
    charges = list(
        session.scalars(
            sa.select(AppCharge)
            .where(
                AppCharge.shop_id == shop_id,
                AppCharge.status == "succeeded",
                AppCharge.paid_at >= start,
                AppCharge.paid_at < end,
            )
            .order_by(AppCharge.paid_at, AppCharge.id)
        )
    )
    refunds = list(
        session.scalars(
            sa.select(ChargeRefund)
            .where(ChargeRefund.shop_id == shop_id, ChargeRefund.created_at >= start, ChargeRefund.created_at < end)
            .order_by(ChargeRefund.created_at, ChargeRefund.id)
        )
    )
    if not charges and not refunds:
        return None
    names = app_names(session, [c.app_id for c in charges] + [r.app_id for r in refunds])
    zone = _zone(shop.timezone)
    lines: list[dict[str, Any]] = []
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"charged": 0, "refunded": 0})
    for charge in charges:
        assert charge.paid_at is not None
        lines.append(
            {
                "at": charge.paid_at.isoformat(),
                "date": charge.paid_at.astimezone(zone).date().isoformat(),
                "type": "charge",
                "kind": charge.kind,
                "app": names.get(charge.app_id, charge.app_id),
                "description": charge.description + (f" ({charge.free_reason})" if charge.free_reason else ""),
                "reference": charge.id,
                "amount": charge.amount,
                "currency": charge.currency,
            }
        )
        totals[charge.currency]["charged"] += charge.amount
    for refund in refunds:
        lines.append(
            {
                "at": refund.created_at.isoformat(),
                "date": refund.created_at.astimezone(zone).date().isoformat(),
                "type": "refund",
                "kind": refund.kind,
                "app": names.get(refund.app_id, refund.app_id),
                "description": refund.reason,
                "reference": refund.charge_id,
                "amount": -refund.amount,
                "currency": refund.currency,
            }
        )
        totals[refund.currency]["refunded"] += refund.amount
    lines.sort(key=lambda line: (line["at"], line["reference"]))
    sequence = int(session.scalar(sa.select(sa.func.max(Invoice.sequence)).where(Invoice.shop_id == shop_id)) or 0) + 1
    invoice = Invoice(
        shop_id=shop_id,
        number=f"{year:04d}{month:02d}-{sequence:04d}",
        sequence=sequence,
        month=label,
        timezone=shop.timezone,
        period_start=start,
        period_end=end,
        lines=lines,
        totals=[
            {"currency": currency, **sums, "net": sums["charged"] - sums["refunded"]}
            for currency, sums in sorted(totals.items())
        ],
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(invoice)
    except IntegrityError:  # issued meanwhile by another run
        return session.scalar(sa.select(Invoice).where(Invoice.shop_id == shop_id, Invoice.month == label))
    return invoice


def issue_due_invoices(session: DbSession, *, now: dt.datetime) -> list[Invoice]:
    """Issue last month's invoice (in each shop's timezone) for every shop billed lately; return the new ones."""
    since = now - dt.timedelta(days=62)
    shop_ids = set(session.scalars(sa.select(AppCharge.shop_id).where(AppCharge.paid_at >= since).distinct()))
    shop_ids |= set(session.scalars(sa.select(ChargeRefund.shop_id).where(ChargeRefund.created_at >= since).distinct()))
    issued = []
    for shop_id in sorted(shop_ids):
        shop = session.get(Shop, shop_id)
        if shop is None:
            continue
        local = now.astimezone(_zone(shop.timezone))
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        done = sa.select(Invoice.id).where(Invoice.shop_id == shop_id, Invoice.month == f"{year:04d}-{month:02d}")
        if session.scalar(done) is not None:
            continue
        invoice = issue_invoice(session, shop_id=shop_id, year=year, month=month, now=now)
        if invoice is not None:
            issued.append(invoice)
    return issued

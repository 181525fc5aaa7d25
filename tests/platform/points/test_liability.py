"""The points liability report (docs/architecture.md §5.15) on a hand-built history, and its statement count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.ledger.models import LedgerAccount, LedgerEntry
from souk_platform.points.liability import points_liability
from souk_platform.points.services import award_points, expire_due_points, spend_points
from souk_platform.shops.services import get_shop, update_shop

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai


def _stamp(session: Any, shop_id: str, when: dt.datetime) -> None:
    """Date the entries just written (the ledger stamps the wall clock) at ``when`` of the story."""
    accounts = sa.select(LedgerAccount.id).where(LedgerAccount.shop_id == shop_id)
    session.execute(
        sa.update(LedgerEntry)
        .where(LedgerEntry.account_id.in_(accounts), LedgerEntry.created_at > dt.datetime(2026, 6, 1, tzinfo=UTC))
        .values(created_at=when)
    )


def _history(session: Any) -> tuple[str, dict[str, str]]:
    shop = ShopFactory()
    a = create_customer(session, shop_id=shop.id, name="甲").id
    b = create_customer(session, shop_id=shop.id, name="乙").id
    headers = token_for(shop)

    def settings(**values: Any) -> None:
        update_shop(session, shop_id=shop.id, changes={"settings": values}, expected_version=None)

    def award(customer: str, points: int, when: dt.datetime) -> None:
        award_points(
            session,
            shop_id=shop.id,
            customer_id=customer,
            points=points,
            reason="story",
            reference=None,
            dedupe_key=f"story:{customer}:{when.isoformat()}",
            now=when,
        )
        _stamp(session, shop.id, when)

    settings(points_expiry_days=3650, points_value_fen=2)
    award(b, 10, dt.datetime(2025, 3, 31, 15, 0, tzinfo=UTC))  # 23:00 local on 31 March 2025: before the window
    settings(points_expiry_days=60)
    award(a, 25, dt.datetime(2025, 12, 1, 2, 0, tzinfo=UTC))  # expires 30 January 2026
    award(a, 100, dt.datetime(2026, 1, 15, 2, 0, tzinfo=UTC))  # expires 16 March
    session.commit()
    expired_at = dt.datetime(2026, 1, 31, 17, 0, tzinfo=UTC)  # 01:00 on 1 February local: a February expiry
    assert expire_due_points(session, now=expired_at) == 25
    _stamp(session, shop.id, expired_at)
    award(b, 300, dt.datetime(2026, 2, 10, 2, 0, tzinfo=UTC))  # expires 11 April
    spent_at = dt.datetime(2026, 2, 20, 2, 0, tzinfo=UTC)
    spend_points(session, shop_id=shop.id, customer_id=a, points=40, order_id="ord_story", now=spent_at)
    _stamp(session, shop.id, spent_at)
    award(a, 50, dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC))  # expires 30 April
    session.commit()
    return shop.id, headers


def _month(month: str, issued: int = 0, spent: int = 0, expired: int = 0) -> dict[str, Any]:
    return {
        "month": month,
        "issued": issued,
        "spent": spent,
        "expired": expired,
        "redeemed": spent + expired,
        "other_debits": 0,
    }


def test_the_report_matches_the_hand_computed_figures(session):
    shop_id, _ = _history(session)
    report = points_liability(session, shop=get_shop(session, shop_id), now=NOW)
    # A: 25 − 25 + 100 − 40 + 50 = 110; B: 10 + 300 = 310
    assert report["outstanding_points"] == 420
    assert (report["point_value_fen"], report["outstanding_value"], report["currency"]) == (2, 840, "CNY")
    assert report["expiring_within_30_days"] == 60  # what is left of A's January lot, due 16 March
    assert report["expiring_within_90_days"] == 60 + 300 + 50
    months = ["2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11"]
    assert report["months"] == [
        *(_month(m) for m in months),
        _month("2025-12", issued=25),
        _month("2026-01", issued=100),
        _month("2026-02", issued=300, spent=40, expired=25),
        _month("2026-03", issued=50),
    ]


def test_the_report_over_http(client, session, clock):
    shop_id, headers = _history(session)
    body = client.get("/api/v1/points/liability", headers=headers).get_json()
    assert (body["outstanding_points"], body["outstanding_value"]) == (420, 840)
    assert body["months"][-1] == _month("2026-03", issued=50) and len(body["months"]) == 12
    reader_of_orders = token_for(get_shop(session, shop_id), ["read_orders"])
    assert client.get("/api/v1/points/liability", headers=reader_of_orders).status_code == 403


def test_statements_do_not_grow_with_customers_or_movements(session):
    shop_id, _ = _history(session)
    statements: list[str] = []

    def count(*args: Any) -> None:
        if not args[2].startswith("SAVEPOINT"):  # the test's own transaction, not the report's work
            statements.append(args[2])

    def run() -> int:
        session.expire_all()
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            points_liability(session, shop=get_shop(session, shop_id), now=NOW)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    few = run()
    for i in range(15):
        customer = create_customer(session, shop_id=shop_id, name=f"客{i}").id
        when = NOW - dt.timedelta(days=20 * i + 1)
        award_points(
            session,
            shop_id=shop_id,
            customer_id=customer,
            points=5 + i,
            reason="more",
            reference=None,
            dedupe_key=f"more:{i}",
            now=when,
        )
        _stamp(session, shop_id, when)
    session.commit()
    assert run() == few <= 4

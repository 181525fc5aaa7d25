"""Sales reports: exact figures, zero-filled buckets in the shop's timezone, rankings, tenancy, bad ranges."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from factories import ShopFactory, token_for
from souk_platform.checkout.models import Cart
from souk_platform.customers.models import Customer
from souk_platform.orders.models import Order, OrderLine
from souk_platform.reports import services
from souk_platform.reports.errors import InvalidReportPeriod

UTC = dt.UTC
_skus = itertools.count(1)


def at(text: str) -> dt.datetime:
    """A UTC instant from ``2026-03-01T17:00``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_order(
    session,
    shop,
    *,
    paid_at: str | None,
    total: int = 10_000,
    stored_value_used: int = 0,
    refunded_total: int = 0,
    status: str = "paid",
    customer: Customer | None = None,
    created_at: str | None = None,
    lines: tuple[tuple[str, str, int, int, int, int], ...] = (),
) -> Order:
    """A committed order; ``lines`` are (product_id, title, unit_price, quantity, discount, refunded_quantity)."""
    created = at(created_at or paid_at or "2026-03-01T00:00")
    order = Order(
        shop_id=shop.id,
        customer_id=customer.id if customer else None,
        status=status,
        currency=shop.currency,
        subtotal=total + stored_value_used,
        total=total,
        stored_value_used=stored_value_used,
        refunded_total=refunded_total,
        reservation_expires_at=created + dt.timedelta(minutes=30),
        created_at=created,
        paid_at=at(paid_at) if paid_at else None,
    )
    for position, (product_id, title, unit_price, quantity, discount, refunded) in enumerate(lines):
        order.lines.append(
            OrderLine(
                shop_id=shop.id,
                sku_id=f"sku_{next(_skus)}",
                product_id=product_id,
                title=title,
                unit_price=unit_price,
                quantity=quantity,
                discount=discount,
                refunded_quantity=refunded,
                position=position,
            )
        )
    session.add(order)
    session.commit()
    return order


def add_customer(session, shop, name: str) -> Customer:
    customer = Customer(shop_id=shop.id, name=name)
    session.add(customer)
    session.commit()
    return customer


def add_carts(session, shop, created_at: str, n: int) -> None:
    session.add_all(Cart(shop_id=shop.id, created_at=at(created_at)) for _ in range(n))
    session.commit()


def get(client, shop, path: str, scopes=("read_reports",)):
    return client.get(f"/api/v1/reports/{path}", headers=token_for(shop, scopes))


# --- sales trend ------------------------------------------------------------------------------------------------


def test_sales_trend_buckets_sales_by_the_shops_day_and_zero_fills(client, session):
    shop = ShopFactory()  # Asia/Shanghai, UTC+8
    other = ShopFactory()
    add_order(session, shop, paid_at="2026-03-01T15:59", total=10_000)  # 23:59 on 1 March in Shanghai
    add_order(session, shop, paid_at="2026-03-01T17:00", total=20_000, stored_value_used=5_000)  # 2 March 01:00
    add_order(session, shop, paid_at="2026-03-02T02:00", total=3_001, refunded_total=1_000, status="completed")
    add_order(session, shop, paid_at=None, total=99_999, status="pending_payment", created_at="2026-03-02T02:00")
    add_order(session, shop, paid_at="2026-03-02T03:00", total=50_000, status="cancelled")
    add_order(session, shop, paid_at="2026-02-28T15:59", total=7_000)  # 28 Feb 23:59 local: before the range
    add_order(session, shop, paid_at="2026-03-04T16:00", total=7_000)  # 5 March 00:00 local: after the range
    add_order(session, other, paid_at="2026-03-02T02:00", total=1_000_000)  # another shop's sale

    r = get(client, shop, "sales-trend?from=2026-03-01&to=2026-03-04")

    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["from"], body["to"], body["timezone"], body["currency"]) == (
        "2026-03-01",
        "2026-03-04",
        "Asia/Shanghai",
        "CNY",
    )
    rows = [
        (b["label"], b["orders_paid"], b["gross_sales"], b["refunds"], b["revenue"], b["average_order_value"])
        for b in body["buckets"]
    ]
    assert rows == [
        ("2026-03-01", 1, 10_000, 0, 10_000, 10_000),
        ("2026-03-02", 2, 28_001, 1_000, 27_001, 13_501),  # 27,001 / 2 = 13,500.5 → rounded half up
        ("2026-03-03", 0, 0, 0, 0, 0),
        ("2026-03-04", 0, 0, 0, 0, 0),
    ]
    assert body["totals"] == {
        "orders_paid": 3,
        "gross_sales": 38_001,
        "refunds": 1_000,
        "revenue": 37_001,
        "average_order_value": 12_334,
    }


def test_sales_trend_by_week_and_month_clips_the_first_and_last_bucket(client, session):
    shop = ShopFactory()
    add_order(session, shop, paid_at="2026-03-01T04:00", total=100)  # Sunday 1 March: ISO week 9
    add_order(session, shop, paid_at="2026-03-08T15:00", total=200)  # Sunday 8 March 23:00 local: week 10
    add_order(session, shop, paid_at="2026-03-08T16:00", total=400)  # Monday 9 March 00:00 local: week 11

    weeks = get(client, shop, "sales-trend?from=2026-03-01&to=2026-03-10&granularity=week").get_json()["buckets"]
    assert [(b["label"], b["start"], b["end"], b["revenue"]) for b in weeks] == [
        ("2026-W09", "2026-03-01", "2026-03-01", 100),
        ("2026-W10", "2026-03-02", "2026-03-08", 200),
        ("2026-W11", "2026-03-09", "2026-03-10", 400),
    ]

    months = get(client, shop, "sales-trend?from=2026-01-15&to=2026-04-02&granularity=month").get_json()["buckets"]
    assert [(b["label"], b["start"], b["end"], b["orders_paid"]) for b in months] == [
        ("2026-01", "2026-01-15", "2026-01-31", 0),
        ("2026-02", "2026-02-01", "2026-02-28", 0),
        ("2026-03", "2026-03-01", "2026-03-31", 3),
        ("2026-04", "2026-04-01", "2026-04-02", 0),
    ]


def test_days_follow_daylight_saving_and_odd_offsets(session):
    """New York moves from UTC−5 to UTC−4 on 8 March 2026; Kathmandu is UTC+05:45."""
    shop = ShopFactory()
    add_order(session, shop, paid_at="2026-03-08T04:30", total=1)  # 7 March 23:30 EST
    add_order(session, shop, paid_at="2026-03-09T03:30", total=2)  # 8 March 23:30 EDT
    add_order(session, shop, paid_at="2026-03-09T04:30", total=4)  # 9 March 00:30 EDT
    period = services.report_period(dt.date(2026, 3, 7), dt.date(2026, 3, 9))

    def revenue_by_day(timezone: str) -> list[int]:
        trend = services.sales_trend(session, shop_id=shop.id, period=period, timezone=timezone, granularity="day")
        return [b.figures.revenue for b in trend.buckets]

    assert revenue_by_day("America/New_York") == [1, 2, 4]
    # In Kathmandu 2026-03-08T04:30Z is 10:15 on 8 March; the other two are on 9 March.
    assert revenue_by_day("Asia/Kathmandu") == [0, 1, 6]
    # An unknown timezone name falls back to UTC rather than failing the report.
    trend = services.sales_trend(session, shop_id=shop.id, period=period, timezone="Mars/Base", granularity="day")
    assert trend.timezone == "UTC" and [b.figures.revenue for b in trend.buckets] == [0, 1, 6]


# --- funnel -----------------------------------------------------------------------------------------------------


def test_funnel_counts_carts_orders_and_payments_with_rates(client, session):
    shop = ShopFactory()
    other = ShopFactory()
    add_carts(session, shop, "2026-03-01T02:00", 8)
    add_carts(session, shop, "2026-02-28T15:00", 5)  # 28 Feb 23:00 local: outside
    add_carts(session, other, "2026-03-01T02:00", 50)
    add_order(session, shop, paid_at="2026-03-01T03:00")
    add_order(session, shop, paid_at="2026-03-05T03:00", created_at="2026-03-01T03:00", status="fulfilled")
    add_order(session, shop, paid_at=None, created_at="2026-03-01T04:00", status="pending_payment")
    add_order(session, other, paid_at="2026-03-01T03:00")

    body = get(client, shop, "funnel?from=2026-03-01&to=2026-03-01").get_json()

    assert {k: body[k] for k in ("carts_created", "orders_created", "orders_paid")} == {
        "carts_created": 8,
        "orders_created": 3,
        "orders_paid": 2,
    }
    assert (body["cart_to_order_rate"], body["order_to_paid_rate"], body["cart_to_paid_rate"]) == (
        "0.3750",
        "0.6667",
        "0.2500",
    )
    empty = get(client, shop, "funnel?from=2025-01-01&to=2025-01-31").get_json()
    assert (empty["carts_created"], empty["cart_to_order_rate"], empty["order_to_paid_rate"]) == (0, None, None)


# --- rankings ---------------------------------------------------------------------------------------------------


def test_top_products_rank_by_revenue_or_quantity_net_of_refunds(client, session):
    shop = ShopFactory()
    other = ShopFactory()
    add_order(
        session,
        shop,
        paid_at="2026-03-01T02:00",
        lines=(("prd_tea", "Old tea name", 5_000, 2, 1_000, 0), ("prd_cup", "Cup", 1_000, 5, 0, 1)),
    )
    add_order(session, shop, paid_at="2026-03-02T02:00", lines=(("prd_tea", "Oolong tea", 5_000, 1, 0, 0),))
    add_order(session, shop, paid_at="2026-03-02T03:00", lines=(("prd_pot", "Teapot", 4_000, 1, 0, 0),))
    # 2 units, 1 refunded: 2×1,000 − 500 discount = 1,500 for the line, 750 kept
    add_order(session, shop, paid_at="2026-03-02T04:00", lines=(("prd_mat", "Mat", 1_000, 2, 500, 1),))
    add_order(session, shop, paid_at="2026-03-02T05:00", lines=(("prd_gone", "Refunded", 9_000, 1, 0, 1),))
    add_order(session, shop, paid_at=None, status="pending_payment", lines=(("prd_mat", "Mat", 1_000, 90, 0, 0),))
    add_order(session, other, paid_at="2026-03-02T02:00", lines=(("prd_cup", "Cup", 1_000, 500, 0, 0),))

    body = get(client, shop, "top-products?from=2026-03-01&to=2026-03-31").get_json()
    assert body["by"] == "revenue"
    assert [
        (i["rank"], i["product_id"], i["name"], i["quantity"], i["revenue"], i["orders"]) for i in body["items"]
    ] == [
        (1, "prd_tea", "Oolong tea", 3, 14_000, 2),
        (2, "prd_cup", "Cup", 4, 4_000, 1),
        (2, "prd_pot", "Teapot", 1, 4_000, 1),  # a tie shares the rank
        (4, "prd_mat", "Mat", 1, 750, 1),
    ]

    by_quantity = get(client, shop, "top-products?from=2026-03-01&to=2026-03-31&by=quantity&limit=2").get_json()
    assert [(i["rank"], i["product_id"], i["quantity"]) for i in by_quantity["items"]] == [
        (1, "prd_cup", 4),
        (2, "prd_tea", 3),
    ]


def test_top_customers_rank_by_revenue_without_guests_or_other_shops(client, session):
    shop = ShopFactory()
    other = ShopFactory()
    li, wang, zhao = (add_customer(session, shop, name) for name in ("Li Na", "Wang Fang", "Zhao Lei"))
    stranger = add_customer(session, other, "Stranger")
    add_order(session, shop, paid_at="2026-03-01T02:00", total=3_000, customer=li)
    add_order(session, shop, paid_at="2026-03-03T02:00", total=2_000, stored_value_used=1_000, customer=li)
    add_order(session, shop, paid_at="2026-03-02T02:00", total=9_000, refunded_total=2_000, customer=wang)
    add_order(session, shop, paid_at="2026-03-02T03:00", total=5_000, refunded_total=5_000, customer=zhao)
    add_order(session, shop, paid_at="2026-03-02T04:00", total=80_000)  # a guest
    add_order(session, other, paid_at="2026-03-02T02:00", total=90_000, customer=stranger)

    body = get(client, shop, "top-customers?from=2026-03-01&to=2026-03-31&limit=5").get_json()

    assert [(i["rank"], i["customer_id"], i["name"], i["orders"], i["revenue"]) for i in body["items"]] == [
        (1, wang.id, "Wang Fang", 1, 7_000),
        (2, li.id, "Li Na", 2, 6_000),
    ]


# --- period over period ---------------------------------------------------------------------------------------


def test_period_over_period_compares_with_the_previous_period_and_a_year_earlier(client, session):
    shop = ShopFactory()
    alice, bob = add_customer(session, shop, "Alice"), add_customer(session, shop, "Bob")
    add_order(session, shop, paid_at="2026-03-01T02:00", total=12_000, customer=alice)  # this period
    add_order(session, shop, paid_at="2026-03-10T02:00", total=3_000, customer=alice)
    add_order(session, shop, paid_at="2026-03-10T03:00", total=5_000, customer=bob, refunded_total=2_000)
    add_order(session, shop, paid_at="2026-02-20T02:00", total=12_000, customer=bob)  # previous 10 days
    add_order(session, shop, paid_at="2025-03-05T02:00", total=6_000, customer=bob)  # a year earlier

    body = get(client, shop, "period-over-period?from=2026-03-01&to=2026-03-10").get_json()
    assert (body["metric"], body["from"], body["to"]) == ("revenue", "2026-03-01", "2026-03-10")
    assert body["current"] == {"from": "2026-03-01", "to": "2026-03-10", "value": 18_000}
    assert body["previous_period"] == {
        "from": "2026-02-19",
        "to": "2026-02-28",
        "value": 12_000,
        "change": 6_000,
        "relative_change": "0.5000",
    }
    assert body["year_earlier"] == {
        "from": "2025-03-01",
        "to": "2025-03-10",
        "value": 6_000,
        "change": 12_000,
        "relative_change": "2.0000",
    }

    customers = get(client, shop, "period-over-period?from=2026-03-01&to=2026-03-10&metric=customers").get_json()
    assert (customers["current"]["value"], customers["previous_period"]["value"]) == (2, 1)
    orders = get(client, shop, "period-over-period?from=2026-03-11&to=2026-03-20&metric=orders").get_json()
    assert orders["current"]["value"] == 0
    assert orders["previous_period"] == {
        "from": "2026-03-01",
        "to": "2026-03-10",
        "value": 3,
        "change": -3,
        "relative_change": "-1.0000",
    }
    assert orders["year_earlier"]["relative_change"] is None  # nothing a year before: no base to divide by


def test_a_leap_day_maps_to_28_february_a_year_earlier():
    period = services.report_period(dt.date(2024, 2, 29), dt.date(2024, 2, 29))
    assert period.year_earlier() == services.ReportPeriod(dt.date(2023, 2, 28), dt.date(2023, 2, 28))
    assert period.previous() == services.ReportPeriod(dt.date(2024, 2, 28), dt.date(2024, 2, 28))


# --- bad input, scopes, tenancy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("sales-trend?from=2026-03-02&to=2026-03-01", {"query.to": ["Must be on or after 'from'."]}),
        (
            "sales-trend?from=2025-01-01&to=2026-01-02",
            {"query.to": ["A report covers at most 366 days; this range has 367."]},
        ),
        ("funnel?to=2026-03-01", {"query.from": ["Missing data for required field."]}),
        ("funnel?from=2026-02-30&to=2026-03-01", {"query.from": ["Not a valid date."]}),
        ("top-customers?from=0001-01-01&to=0001-01-02", None),
        ("sales-trend?from=2026-03-01&to=2026-03-02&granularity=hour", None),
        ("top-products?from=2026-03-01&to=2026-03-02&by=profit", None),
        ("top-products?from=2026-03-01&to=2026-03-02&limit=0", None),
        ("period-over-period?from=2026-03-01&to=2026-03-02&metric=margin", None),
        ("funnel?from=2026-03-01&to=2026-03-02&surprise=1", {"query.surprise": ["Unknown field."]}),
    ],
)
def test_bad_queries_are_422_with_field_errors(client, session, query, errors):
    shop = ShopFactory()
    r = get(client, shop, query)
    assert r.status_code == 422, r.get_json()
    assert r.content_type == "application/problem+json"
    body = r.get_json()
    assert body["type"].endswith("/validation-failed")
    if errors is not None:
        assert body["errors"] == errors
    else:
        assert body["errors"]


def test_a_full_year_including_a_leap_day_is_accepted(client, session):
    shop = ShopFactory()
    r = get(client, shop, "sales-trend?from=2024-01-01&to=2024-12-31&granularity=month")
    assert r.status_code == 200 and len(r.get_json()["buckets"]) == 12
    days = get(client, shop, "sales-trend?from=2024-01-01&to=2024-12-31").get_json()["buckets"]
    assert len(days) == 366 and days[59]["label"] == "2024-02-29"


def test_the_service_refuses_bad_periods_too():
    with pytest.raises(InvalidReportPeriod) as err:
        services.report_period(dt.date(2026, 3, 2), dt.date(2026, 3, 1))
    assert err.value.errors == {"to": ["Must be on or after 'from'."]}


def test_reports_need_the_read_reports_scope(client, session):
    shop = ShopFactory()
    r = get(client, shop, "funnel?from=2026-03-01&to=2026-03-02", scopes=["read_orders"])
    assert r.status_code == 403 and r.get_json()["required_scope"] == "read_reports"
    assert get(client, shop, "funnel?from=2026-03-01&to=2026-03-02", scopes=["write_reports"]).status_code == 200


def test_another_shops_sales_never_show(client, session):
    mine, theirs = ShopFactory(), ShopFactory()
    rich = add_customer(session, theirs, "Their customer")
    add_order(
        session,
        theirs,
        paid_at="2026-03-01T02:00",
        total=50_000,
        customer=rich,
        lines=(("prd_theirs", "Theirs", 50_000, 1, 0, 0),),
    )
    add_carts(session, theirs, "2026-03-01T02:00", 3)
    query = "?from=2026-03-01&to=2026-03-01"
    assert get(client, mine, "sales-trend" + query).get_json()["totals"]["orders_paid"] == 0
    assert get(client, mine, "funnel" + query).get_json()["carts_created"] == 0
    assert get(client, mine, "top-products" + query).get_json()["items"] == []
    assert get(client, mine, "top-customers" + query).get_json()["items"] == []
    assert get(client, mine, "period-over-period" + query).get_json()["current"]["value"] == 0
    assert get(client, theirs, "top-customers" + query).get_json()["items"][0]["name"] == "Their customer"


def test_reports_are_in_the_openapi_spec(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/reports/sales-trend"]["get"]
    assert operation["security"] == [{"bearerAuth": ["read_reports"]}]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "granularity"}


@pytest.mark.embedded
def test_reports_run_on_the_embedded_sqlite_wiring(embedded_app):
    """The same queries on SQLite (the demo's database): buckets, rankings and comparisons."""
    from souk_platform.db import db

    with embedded_app.app_context():
        shop = ShopFactory()
        add_order(db.session, shop, paid_at="2026-03-01T15:59", total=100, lines=(("prd_a", "A", 100, 1, 0, 0),))
        add_order(db.session, shop, paid_at="2026-03-01T17:00", total=250, lines=(("prd_b", "B", 250, 1, 0, 0),))
        period = services.report_period(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
        trend = services.sales_trend(
            db.session, shop_id=shop.id, period=period, timezone="Asia/Shanghai", granularity="day"
        )
        assert [(b.label, b.figures.revenue) for b in trend.buckets] == [
            ("2026-03-01", 100),
            ("2026-03-02", 250),
            ("2026-03-03", 0),
        ]
        ranking = services.top_products(
            db.session, shop_id=shop.id, period=period, timezone="Asia/Shanghai", by="revenue", limit=5
        )
        assert [(i.rank, i.product_id, i.name, i.revenue) for i in ranking.items] == [
            (1, "prd_b", "B", 250),
            (2, "prd_a", "A", 100),
        ]
        comparison = services.period_over_period(
            db.session, shop_id=shop.id, period=period, timezone="Asia/Shanghai", metric="orders"
        )
        assert (comparison.current.value, comparison.previous_period.relative_change) == (2, None)

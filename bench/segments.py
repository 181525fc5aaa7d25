"""Segment reach benchmark: the filter-field compiler against hand-written SQL on 100,000 customers, 1,000,000 orders.

Run from the repository root:

    .venv/bin/python bench/segments.py [--customers 100000] [--orders 1000000] [--runs 15]
                                       [--explain] [--database-url URL] [--redis-url URL]

It seeds one shop on PostgreSQL with ``generate_series`` (a fresh database of this run's own, dropped at the
end, unless ``--database-url`` is given): a category tree (母婴 > 奶粉 > 婴儿奶粉, 纸尿裤, and others),
200 products, ``--customers`` customers and ``--orders`` orders of 1–3 lines each, paid over the last two
years (1 in 20 cancelled), with the customers' running totals set as ``record_purchase`` would. Then for
each condition below it times, interleaved, ``--runs`` reach estimates through the service the API calls
(``souk_platform.audience.services.count_matching``: compile + one ``SELECT count(*)``) and the same number
of a hand-written SQL ``COUNT`` of the same condition (both with PostgreSQL's JIT off, as the service
sets it for its transaction), and checks that both give the same count. The seed
example is also timed once through the HTTP API (``POST /api/v1/segments/estimate``, in-process client).
It prints per condition the count, p50/p99 of each, and the p50 ratio service / hand-written (goal: p50 <
1 s and ≤ 1.5×), and the load average at the start and the end. ``--explain`` prints ``EXPLAIN ANALYZE``
of the compiled seed example. Redis is leased only for parity with the other benches (the app runs
without it). This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from checkout import bench_app
from isolation import add_store_options, load_average_printed, own_stores

P50_GOAL_MS = 1000.0
RATIO_GOAL = 1.5
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
LEAF_CATEGORIES = ("奶粉", "婴儿奶粉", "纸尿裤", "手机", "耳机", "男装", "女装", "零食", "饮料", "家居")


def _id(prefix: str, number_sql: str) -> str:
    return f"'{prefix}_' || lpad(({number_sql})::text, 26, '0')"


def seed(session: Any, *, customers: int, orders: int) -> dict[str, str]:
    """The shop, its categories and products, customers and orders; returns ids by name."""
    import sqlalchemy as sa

    from souk_platform.auth.services import create_user
    from souk_platform.catalog.models import Category
    from souk_platform.shops.services import create_shop

    owner = create_user(session, email=f"seg-{time.time_ns()}@bench.souk.dev", name="bench", password="x" * 12)
    shop = create_shop(session, name="Segments bench", owner=owner)
    session.flush()
    ids: dict[str, str] = {"shop": shop.id}

    def category(name: str, parent: str | None) -> str:
        row = Category(shop_id=shop.id, parent_id=parent, name=name, sibling_key=f"{parent or ''}/{name}")
        session.add(row)
        session.flush()
        ids[name] = row.id
        return row.id

    baby, digital, clothes, food = (
        category("母婴", None),
        category("数码", None),
        category("服饰", None),
        category("食品", None),
    )
    milk = category("奶粉", baby)
    category("婴儿奶粉", milk)
    category("纸尿裤", baby)
    for name, parent in (("手机", digital), ("耳机", digital), ("男装", clothes), ("女装", clothes)):
        category(name, parent)
    for name, parent in (("零食", food), ("饮料", food)):
        category(name, parent)
    category("家居", None)
    leaf_ids = ", ".join(f"'{ids[name]}'" for name in LEAF_CATEGORIES)
    shop_id = shop.id
    execute = session.execute
    # 200 products, product p in leaf category p % 10.
    execute(
        sa.text(
            f"""INSERT INTO products (id, shop_id, title, description, status, category_id, version, created_at,
                   updated_at)
            SELECT {_id("prd", "p")}, :shop, 'Product ' || p, '', 'active',
                   (ARRAY[{leaf_ids}])[1 + p % 10], 1, :now, :now
            FROM generate_series(0, 199) p"""
        ),
        {"shop": shop_id, "now": NOW},
    )
    execute(
        sa.text(
            f"""INSERT INTO product_tags (product_id, tag, shop_id)
            SELECT {_id("prd", "p")}, 'hot', :shop FROM generate_series(0, 199, 7) p"""
        ),
        {"shop": shop_id},
    )
    execute(
        sa.text(
            f"""INSERT INTO customers (id, shop_id, name, level, orders_count, total_spent, version, created_at)
            SELECT {_id("cus", "c")}, :shop, 'Customer ' || c, 1 + c % 5, 0, 0, 1,
                   :now - ((c * 7) % 900) * interval '1 day'
            FROM generate_series(1, :n) c"""
        ),
        {"shop": shop_id, "now": NOW, "n": customers},
    )
    # Line k (0..n-1) of order g: product (g*17 + k*53) % 200, price 50–549.99 yuan, 1–2 units,
    # 10 % off on one order in 4.
    price = "(5000 + ((g * 13 + k * 101) % 50000))"
    quantity = "(1 + (g + k) % 2)"
    discount = f"(CASE WHEN g % 4 = 0 THEN {price} * {quantity} / 10 ELSE 0 END)"
    lines_of = "generate_series(0, g % 3) k"
    execute(
        sa.text(
            f"""INSERT INTO orders (id, shop_id, customer_id, status, currency, subtotal, discount_total, fee_total,
                   points_spent, points_value, stored_value_used, total, refunded_total, discounts, fees,
                   points_earned, points_revoked, points_returned, cashback_amount, channel,
                   reservation_expires_at, created_at, paid_at, cancelled_at, version)
            SELECT {_id("ord", "g")}, :shop, {_id("cus", "1 + (g * 7919) % :n")},
                   CASE WHEN g % 20 = 0 THEN 'cancelled' ELSE 'completed' END, 'CNY',
                   s.subtotal, s.discount, 0, 0, 0, 0, s.subtotal - s.discount,
                   CASE WHEN g % 50 = 0 THEN (s.subtotal - s.discount) / 2 ELSE 0 END, '[]', '[]', 0, 0, 0, 0,
                   (ARRAY['online', 'store', 'mini_program', 'app', 'social'])[1 + g % 5],
                   t.at, t.at, CASE WHEN g % 20 = 0 THEN NULL ELSE t.at END,
                   CASE WHEN g % 20 = 0 THEN t.at ELSE NULL END, 1
            FROM generate_series(1::bigint, :m) g
            CROSS JOIN LATERAL (
                SELECT :now - ((g * 37) % 730) * interval '1 day' - (g % 86400) * interval '1 second' AS at
            ) t
            CROSS JOIN LATERAL (
                SELECT sum({price} * {quantity}) AS subtotal, sum({discount}) AS discount FROM {lines_of}
            ) s"""
        ),
        {"shop": shop_id, "now": NOW, "n": customers, "m": orders},
    )
    execute(
        sa.text(
            f"""INSERT INTO order_lines (id, order_id, shop_id, sku_id, product_id, category_id, title, unit_price,
                   list_price, quantity, discount, refunded_quantity, position)
            SELECT {_id("oln", "g * 4 + k")}, {_id("ord", "g")}, :shop, {_id("sku", "(g * 17 + k * 53) % 200")},
                   {_id("prd", "(g * 17 + k * 53) % 200")}, (ARRAY[{leaf_ids}])[1 + ((g * 17 + k * 53) % 200) % 10],
                   'Product', {price}, {price}, {quantity}, {discount}, 0, k
            FROM generate_series(1::bigint, :m) g CROSS JOIN LATERAL {lines_of}"""
        ),
        {"shop": shop_id, "m": orders},
    )
    # The running totals record_purchase keeps (net of refunds), for the first six fields.
    execute(
        sa.text(
            """UPDATE customers c SET orders_count = a.n, total_spent = a.spent, last_order_at = a.last
            FROM (SELECT customer_id, count(*) AS n, sum(total - refunded_total) AS spent, max(paid_at) AS last
                  FROM orders WHERE shop_id = :shop AND status = 'completed' GROUP BY customer_id) a
            WHERE c.id = a.customer_id"""
        ),
        {"shop": shop_id},
    )
    session.commit()
    return ids


def conditions(ids: dict[str, str]) -> list[tuple[str, dict[str, Any], str]]:
    """(label, condition, hand-written SQL) triples; ``:shop``, ``:now`` and ids are bound by the caller."""
    baby = {"window_days": 90, "category_id": ids["母婴"]}
    return [
        (
            "seed: ≥2 orders in 母婴 (90 d) and AOV > 300 yuan",
            {
                "op": "and",
                "conditions": [
                    {"field": "trade.orders_count", "params": baby, "cmp": "gte", "value": 2},
                    {"field": "trade.avg_order_value", "params": baby, "cmp": "gt", "value": 30_000},
                ],
            },
            """SELECT count(*) FROM customers WHERE shop_id = :shop AND id IN (
                 SELECT customer_id FROM (
                   SELECT o.customer_id, o.id, sum(l.unit_price * l.quantity - l.discount) AS value
                   FROM orders o JOIN order_lines l ON l.order_id = o.id
                   WHERE o.shop_id = :shop AND o.status IN ('paid', 'fulfilled', 'completed')
                     AND o.paid_at >= :now - interval '90 days' AND l.shop_id = :shop
                     AND l.category_id IN (SELECT id FROM categories WHERE shop_id = :shop AND (id = :baby
                         OR parent_id = :baby OR parent_id IN (SELECT id FROM categories WHERE parent_id = :baby)))
                   GROUP BY o.customer_id, o.id) per_order
                 GROUP BY customer_id HAVING count(*) >= 2 AND avg(value) > 30000)""",
        ),
        (
            "spend ≥ 2000 yuan in 365 d OR ≥ 20 orders ever (merged OR)",
            {
                "op": "or",
                "conditions": [
                    {"field": "trade.spend", "params": {"window_days": 365}, "cmp": "gte", "value": 200_000},
                    {"field": "trade.orders_count", "params": {"window_days": 365}, "cmp": "gte", "value": 20},
                ],
            },
            """SELECT count(*) FROM customers WHERE shop_id = :shop AND id IN (
                 SELECT customer_id FROM orders
                 WHERE shop_id = :shop AND status IN ('paid', 'fulfilled', 'completed')
                   AND paid_at >= :now - interval '365 days'
                 GROUP BY customer_id HAVING sum(subtotal - discount_total) >= 200000 OR count(*) >= 20)""",
        ),
        (
            "V3+ and no order for 60 days (row + days-since)",
            {
                "op": "and",
                "conditions": [
                    {"field": "level", "cmp": "gte", "value": 3},
                    {"field": "trade.days_since_last_order", "cmp": "gte", "value": 60},
                ],
            },
            """SELECT count(*) FROM customers WHERE shop_id = :shop AND level >= 3 AND id IN (
                 SELECT customer_id FROM orders WHERE shop_id = :shop AND status IN ('paid', 'fulfilled', 'completed')
                   AND paid_at <= :now
                 GROUP BY customer_id HAVING max(paid_at) <= :now - interval '60 days')""",
        ),
        (
            "≥ 3 units of 'hot' products in 180 d",
            {
                "op": "and",
                "conditions": [
                    {
                        "field": "trade.items_count",
                        "params": {"window_days": 180, "product_tag": "hot"},
                        "cmp": "gte",
                        "value": 3,
                    }
                ],
            },
            """SELECT count(*) FROM customers WHERE shop_id = :shop AND id IN (
                 SELECT o.customer_id FROM orders o JOIN order_lines l ON l.order_id = o.id
                 WHERE o.shop_id = :shop AND o.status IN ('paid', 'fulfilled', 'completed')
                   AND o.paid_at >= :now - interval '180 days' AND l.shop_id = :shop
                   AND l.product_id IN (SELECT product_id FROM product_tags WHERE shop_id = :shop AND tag = 'hot')
                 GROUP BY o.customer_id HAVING sum(l.quantity) >= 3)""",
        ),
    ]


def _timed(call: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter_ns()
    count = call()
    return (time.perf_counter_ns() - started) / 1e6, count


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(app: Any, ids: dict[str, str], runs: int, explain: bool) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from souk_platform.audience.schemas import load_condition_group
    from souk_platform.audience.services import compile_condition, count_matching, without_jit
    from souk_platform.customers.models import Customer
    from souk_platform.db import db

    results = []
    binds = {"shop": ids["shop"], "now": NOW, "baby": ids["母婴"]}
    with app.app_context():
        session = db.session
        for label, raw, hand_sql in conditions(ids):
            condition = load_condition_group(raw)
            hand = sa.text(hand_sql)

            def service(condition: dict[str, Any] = condition) -> int:
                count = count_matching(session, shop_id=ids["shop"], condition=condition, now=NOW)
                session.rollback()
                return count

            def by_hand(hand: Any = hand) -> int:
                without_jit(session)  # the same session setting as the service's
                count = int(session.execute(hand, binds).scalar_one())
                session.rollback()
                return count

            service(), by_hand()  # warm-up: plans and caches, uncounted
            times_service, times_hand, counts = [], [], set()
            for _ in range(runs):
                ms, count = _timed(service)
                times_service.append(ms)
                counts.add(("service", count))
                ms, count = _timed(by_hand)
                times_hand.append(ms)
                counts.add(("hand", count))
            results.append(
                {"label": label, "counts": counts, "service": times_service, "hand": times_hand, "condition": raw}
            )
            if explain and label.startswith("seed"):
                where = compile_condition(condition, shop_id=ids["shop"], now=NOW)
                stmt = sa.select(sa.func.count()).select_from(Customer).where(Customer.shop_id == ids["shop"], where)
                compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
                without_jit(session)
                plan = session.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
                session.rollback()
                print("EXPLAIN ANALYZE of the compiled seed example:\n  " + "\n  ".join(plan), flush=True)
    return results


def through_http(app: Any, ids: dict[str, str], condition: dict[str, Any]) -> tuple[float, int]:
    """One estimate through ``POST /api/v1/segments/estimate`` (token check, validation, reference checks)."""
    from souk_platform.auth.services import create_access_token
    from souk_platform.core.clock import FrozenClock
    from souk_platform.db import db

    with app.app_context():
        _, token = create_access_token(
            db.session, shop_id=ids["shop"], name="bench", scopes=["read_tags"], created_by=None
        )
        db.session.commit()
    app.extensions["souk.clock"] = FrozenClock(NOW)  # the estimate's "now" is the seed's
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/api/v1/segments/estimate", json={"condition": condition}, headers=headers)  # warm-up
    started = time.perf_counter_ns()
    response = client.post("/api/v1/segments/estimate", json={"condition": condition}, headers=headers)
    elapsed = (time.perf_counter_ns() - started) / 1e6
    return elapsed, int(response.get_json()["count"]) if response.status_code == 200 else -response.status_code


def report(results: list[dict[str, Any]], http: tuple[float, int]) -> None:
    print()
    print(f"{'condition':58} {'count':>7} {'service p50/p99 ms':>20} {'hand p50/p99 ms':>18} {'ratio':>6}")
    for r in results:
        service_p50, hand_p50 = statistics.median(r["service"]), statistics.median(r["hand"])
        counts = {count for _, count in r["counts"]}
        count = str(counts.pop()) if len(counts) == 1 else "DIFFER " + str(sorted(r["counts"]))
        ratio = service_p50 / hand_p50 if hand_p50 else float("inf")
        verdict = "ok" if service_p50 < P50_GOAL_MS and ratio <= RATIO_GOAL else "MISSED"
        print(
            f"{r['label']:58} {count:>7} {service_p50:9.1f}/{_pct(r['service'], 0.99):<9.1f} "
            f"{hand_p50:8.1f}/{_pct(r['hand'], 0.99):<8.1f} {ratio:6.2f} {verdict}"
        )
    print(f"seed example through POST /api/v1/segments/estimate: {http[0]:.1f} ms, count {http[1]}")
    print(f"goal: service p50 < {P50_GOAL_MS:.0f} ms and ≤ {RATIO_GOAL}× the hand-written query", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000, help="customers to seed (default 100000)")
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to seed (default 1000000)")
    parser.add_argument("--runs", type=int, default=15, help="timed estimates per condition and side (default 15)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the compiled seed example")
    add_store_options(parser)
    args = parser.parse_args(argv)
    if args.customers < 1 or args.orders < 1 or args.runs < 1:
        parser.error("--customers, --orders and --runs must be at least 1")

    with (
        load_average_printed(),
        own_stores("segments", args) as stores,
        tempfile.TemporaryDirectory(prefix="souk-bench-segments-") as folder,
    ):
        app = bench_app(stores.database_url, folder)
        import sqlalchemy as sa

        from souk_platform.db import db

        with app.app_context():
            started = time.perf_counter()
            ids = seed(db.session, customers=args.customers, orders=args.orders)
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            took = time.perf_counter() - started
            print(f"Seeded {args.customers} customers and {args.orders} orders in {took:.1f} s", flush=True)
        results = measure(app, ids, args.runs, args.explain)
        http = through_http(app, ids, results[0]["condition"])
        report(results, http)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

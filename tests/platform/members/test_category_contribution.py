"""Level rules counting a category's contribution (docs/architecture.md §5.7): spend and orders in a category
subtree within the window, net of refunded lines, and the refusals of rules naming a category badly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.categories import create_category, delete_category
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.customers.models import Customer
from souk_platform.customers.services import create_customer
from souk_platform.members.services import evaluate_with_stats, save_level_config
from souk_platform.orders.models import OrderLine
from souk_platform.orders.services import create_refund, settle_payment, start_payment
from souk_platform.shops.models import Shop


def _levels(v2: dict[str, Any] | None, v3: dict[str, Any] | None = None, keep2: dict[str, Any] | None = None):
    return [
        {"level": 1, "name": "V1"},
        {"level": 2, "name": "V2", "upgrade": v2, "keep": keep2},
        {"level": 3, "name": "V3", "upgrade": v3},
        {"level": 4, "name": "V4"},
        {"level": 5, "name": "V5"},
    ]


@pytest.fixture
def baby_shop(session: Any) -> dict[str, str]:
    """母婴 > 奶粉 (formula at 50,000 fen), 茶 (tea at 90,000 fen), and a customer."""
    shop = ShopFactory()
    baby = create_category(session, shop_id=shop.id, name="母婴")
    formula = create_category(session, shop_id=shop.id, name="奶粉", parent_id=baby.id)
    tea = create_category(session, shop_id=shop.id, name="茶")
    milk = create_product(
        session,
        shop_id=shop.id,
        title="Formula",
        status="active",
        category_id=formula.id,
        skus=[NewSku(code="F-1", title="900g", price=50_000, on_hand=100)],
    )
    leaf = create_product(
        session,
        shop_id=shop.id,
        title="Longjing",
        status="active",
        category_id=tea.id,
        skus=[NewSku(code="T-1", title="250g", price=90_000, on_hand=100)],
    )
    customer = create_customer(session, shop_id=shop.id, name="妈妈")
    session.commit()
    return {
        "shop": shop.id,
        "baby": baby.id,
        "formula": formula.id,
        "tea": tea.id,
        "milk_sku": milk.skus[0].id,
        "tea_sku": leaf.skus[0].id,
        "customer": customer.id,
    }


def _paid_order(session: Any, w: dict[str, str], now: dt.datetime, lines: list[tuple[str, int]]) -> str:
    cart = create_cart(
        session,
        shop_id=w["shop"],
        customer_id=w["customer"],
        lines=[{"sku_id": sku, "quantity": q} for sku, q in lines],
        now=now,
    )
    order = checkout(
        session,
        shop_id=w["shop"],
        cart_id=cart.id,
        customer_id=w["customer"],
        ip=None,
        coupon_codes=[],
        points_to_spend=0,
        stored_value_to_spend=0,
        now=now,
    )
    payment, _ = start_payment(session, shop_id=w["shop"], order_id=order.id, now=now)
    settle_payment(session, shop_id=w["shop"], payment_id=payment.id, callback={"outcome": "succeeded"}, now=now)
    session.commit()
    return order.id


def _configure(session: Any, w: dict[str, str], levels: list[dict[str, Any]]) -> None:
    save_level_config(
        session, shop_id=w["shop"], window_days=90, downgrade_period_days=1, levels=levels, expected_version=None
    )
    session.commit()


def _level(session: Any, w: dict[str, str]) -> int:
    session.expire_all()
    customer = session.get(Customer, w["customer"])
    return int(customer.level)


def test_spend_in_a_subcategory_counts_for_its_parent_and_other_categories_do_not(session, clock, baby_shop):
    w = baby_shop
    _configure(session, w, _levels({"category": {"category_id": w["baby"], "spend": 100_000}}))
    now = clock.now()
    _paid_order(session, w, now, [(w["tea_sku"], 3)])  # 270,000 fen of tea: not 母婴
    assert _level(session, w) == 1
    _paid_order(session, w, now, [(w["milk_sku"], 1), (w["tea_sku"], 1)])  # 50,000 in 奶粉 ⊂ 母婴
    assert _level(session, w) == 1
    _paid_order(session, w, now, [(w["milk_sku"], 1)])  # 100,000 in 母婴 now: paying upgrades
    assert _level(session, w) == 2
    _, stats = evaluate_with_stats(session, shop_id=w["shop"], customer_id=w["customer"], now=now)
    assert stats.categories == {w["baby"]: {"spend": 100_000, "orders": 2}}
    assert stats.spend_in_window == 460_000  # the plain spend counts every category


def test_category_orders_refunds_and_the_window(session, clock, baby_shop):
    w = baby_shop
    _configure(
        session,
        w,
        _levels(
            {"category": {"category_id": w["formula"], "orders": 2}},
            {"match": "all", "category": {"category_id": w["formula"], "orders": 2, "spend": 150_000}},
        ),
    )
    start = clock.now()
    first = _paid_order(session, w, start - dt.timedelta(days=100), [(w["milk_sku"], 2)])  # outside 90 days
    _paid_order(session, w, start, [(w["milk_sku"], 2)])
    _, stats = evaluate_with_stats(session, shop_id=w["shop"], customer_id=w["customer"], now=start)
    assert stats.categories[w["formula"]] == {"spend": 100_000, "orders": 1}
    second = _paid_order(session, w, start, [(w["milk_sku"], 2)])
    assert _level(session, w) == 3  # 2 orders and 200,000 fen in the window
    # Refunding one unit takes its share off the category's spend; the order still counts.
    line_id = session.scalar(sa.select(OrderLine.id).where(OrderLine.order_id == second))
    create_refund(
        session,
        shop_id=w["shop"],
        order_id=second,
        amount=None,
        lines=[{"line_id": line_id, "quantity": 1}],
        reason="one tin",
        restock=False,
        now=start,
    )
    session.commit()
    _, stats = evaluate_with_stats(session, shop_id=w["shop"], customer_id=w["customer"], now=start)
    assert stats.categories[w["formula"]] == {"spend": 150_000, "orders": 2}
    assert first  # placed, paid and ignored by the window


def test_a_deleted_category_counts_nothing(session, clock, baby_shop):
    w = baby_shop
    empty = create_category(session, shop_id=w["shop"], name="玩具", parent_id=w["baby"])
    session.commit()
    _configure(session, w, _levels({"category": {"category_id": empty.id, "orders": 1}}))
    delete_category(session, shop_id=w["shop"], category_id=empty.id, expected_version=None)
    session.commit()
    _paid_order(session, w, clock.now(), [(w["milk_sku"], 1)])
    _, stats = evaluate_with_stats(session, shop_id=w["shop"], customer_id=w["customer"], now=clock.now())
    assert stats.categories == {empty.id: {"spend": 0, "orders": 0}}
    assert _level(session, w) == 1


def test_rules_naming_categories_badly_are_422_and_change_nothing(client, session, baby_shop):
    w = baby_shop
    other_shop = ShopFactory()
    foreign = create_category(session, shop_id=other_shop.id, name="母婴")
    session.commit()
    headers = token_for(session.get(Shop, w["shop"]), ["write_members"])
    cases = [
        (_levels({"category": {"category_id": foreign.id, "spend": 1}}), "levels.1.upgrade.category.category_id"),
        (_levels({"category": {"category_id": "cat_nope", "spend": 1}}), "levels.1.upgrade.category.category_id"),
        (_levels({"category": {"category_id": w["baby"]}}), "levels.1.upgrade.category._schema"),
        (_levels({"category": {"category_id": w["baby"], "spend": -5}}), "levels.1.upgrade.category.spend"),
        (
            _levels(
                {"category": {"category_id": w["baby"], "spend": 5_000}},
                {"category": {"category_id": w["baby"], "spend": 4_000}},
            ),
            "levels.2.upgrade.category.spend",
        ),
        (
            _levels(
                {"category": {"category_id": w["baby"], "orders": 2}},
                keep2={"category": {"category_id": w["baby"], "orders": 3}},
            ),
            "levels.1.keep.category.orders",
        ),
    ]
    for levels, path in cases:
        r = client.put("/api/v1/member-levels", headers=headers, json={"levels": levels})
        assert r.status_code == 422, (path, r.get_json())
        errors = r.get_json()["errors"]
        flat = _flatten(errors)
        assert path in flat, (path, errors)
    assert client.get("/api/v1/member-levels", headers=headers).get_json()["configured"] is False
    # Different categories do not compare: a lower V3 threshold on another category is fine.
    ok = _levels(
        {"category": {"category_id": w["baby"], "spend": 5_000}},
        {"spend": 10_000, "category": {"category_id": w["tea"], "spend": 1_000}},
    )
    r = client.put("/api/v1/member-levels", headers=headers, json={"levels": ok})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["levels"][2]["upgrade"]["category"] == {"category_id": w["tea"], "spend": 1_000, "orders": None}


def _flatten(errors: Any, prefix: str = "") -> set[str]:
    """Problem ``errors`` as dotted paths, whether the API nests them (schema errors) or names them flat."""
    if not isinstance(errors, dict):
        return {prefix.rstrip(".")}
    paths: set[str] = set()
    for key, value in errors.items():
        if key == "json":
            paths |= _flatten(value, prefix)
        else:
            paths |= _flatten(value, f"{prefix}{key}.")
    return paths

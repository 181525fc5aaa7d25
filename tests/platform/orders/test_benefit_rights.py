"""Checkout applies the rights a benefit package grants (docs/architecture.md §5.7, §5.10): a package's member
price and member discount against the level perks (the cheapest wins), expiry, other shops, guests, free
shipping on shipping fees only, the cart preview, the order page and refunds."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from plugin_modules import constant_plugin

from factories import ShopFactory
from souk_platform.auth.services import create_user
from souk_platform.benefits import services as benefits
from souk_platform.benefits.models import BenefitGrant, BenefitPackage
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.ledger.services import check_invariants
from souk_platform.members.services import set_customer_level
from souk_platform.plugins.services import create_activation, upload_plugin
from souk_platform.shops.services import add_staff
from souk_sandbox.points import POINTS

LEVELS = [
    {"level": 1, "name": "普通会员"},
    {"level": 2, "name": "银卡", "discount_bps": 200},
    {"level": 3, "name": "金卡", "discount_bps": 500},  # 9.5折: tea 5000 → 4750, cup 2000 → 1900
    {"level": 4, "name": "铂金", "discount_bps": 800},
    {"level": 5, "name": "黑金", "discount_bps": 1000},
]
FEES = {
    "fees": [
        {"label": "Shipping", "amount": 800, "kind": "shipping"},
        {"label": "Gift wrap", "amount": 200},
        {"label": "Insurance", "amount": 100, "kind": "other"},
    ]
}


def _levels(flow: Any, session: Any, clock: Any, level: int) -> None:
    r = flow.client.put("/api/v1/member-levels", json={"levels": LEVELS}, headers=flow.world.headers)
    assert r.status_code == 200, r.get_json()
    set_customer_level(
        session,
        shop_id=flow.world.shop_id,
        customer_id=flow.world.customer_id,
        level=level,
        reason="t",
        now=clock.now(),
    )
    session.commit()


def _grant(
    session: Any, clock: Any, shop_id: str, customer_id: str, items: list[dict[str, Any]], name: str = "礼包"
) -> BenefitGrant:
    package = benefits.create_package(
        session, shop_id=shop_id, fields={"name": name, "trigger": "manual", "trigger_params": {}, "items": items}
    )
    grant, _ = benefits.grant_package(
        session, package=package, customer_id=customer_id, period=f"manual:{package.id}", now=clock.now()
    )
    session.commit()
    return grant


def _level_package(session: Any, shop_id: str, level: int, items: list[dict[str, Any]]) -> BenefitPackage:
    package = benefits.create_package(
        session,
        shop_id=shop_id,
        fields={"name": f"V{level} 成长礼", "trigger": "level", "trigger_params": {"level": level}, "items": items},
    )
    session.commit()
    return package


def _lines(flow: Any, order_id: str) -> list[tuple[Any, ...]]:
    detail = flow.get(f"/orders/{order_id}").get_json()
    return [
        (line["unit_price"], line["member_perk"], line["benefit_grant_id"], line["benefit_package_id"])
        for line in detail["lines"]
    ]


def _fees_plugin(session: Any, shop_id: str) -> None:
    plugin = upload_plugin(session, shop_id=shop_id, name="fees", point="order.extra_fee", module=constant_plugin(FEES))
    create_activation(session, shop_id=shop_id, plugin_id=plugin.id)
    session.commit()


@pytest.fixture
def odd_sku(session: Any, world: Any) -> str:
    """A SKU priced 1999 fen: 5 % off is 99.95 fen, which rounds half up to 100."""
    product = create_product(
        session,
        shop_id=world.shop_id,
        title="Oolong",
        status="active",
        skus=[NewSku(code="OOL-1", title="Sample", price=1999, on_hand=20)],
    )
    session.commit()
    return product.skus[0].id


def test_a_packages_member_price_beats_a_worse_level_discount_for_its_sku(flow, world, session, clock):
    _levels(flow, session, clock, 3)
    grant = _grant(
        session, clock, world.shop_id, world.customer_id, [{"type": "member_price", "sku_id": world.tea, "price": 4000}]
    )
    order = flow.place([(world.tea, 2), (world.cup, 1)])
    assert _lines(flow, order["id"]) == [
        (4000, "benefit_price", grant.id, grant.package_id),
        (1900, "level_discount", None, None),
    ]
    assert (order["subtotal"], order["member_discount_total"], order["member_level"]) == (9900, 2100, 3)
    created = db.session.scalar(
        sa.select(OutboxEvent).where(OutboxEvent.subject_id == order["id"], OutboxEvent.type == "order.created")
    )
    assert created.payload["lines"][0]["benefit_grant_id"] == grant.id
    # Reusable until it expires: the grant stays active after an order uses it.
    flow.pay(order["id"])
    assert db.session.get(BenefitGrant, grant.id).status == "active"
    assert _lines(flow, flow.place([(world.tea, 1)])["id"])[0][1] == "benefit_price"


def test_a_better_level_perk_beats_the_packages_rights(flow, world, session, clock):
    _levels(flow, session, clock, 4)  # 8 % off: tea 4600, cup 1840
    _grant(
        session,
        clock,
        world.shop_id,
        world.customer_id,
        [
            {"type": "member_price", "sku_id": world.tea, "price": 4700},
            {"type": "member_discount", "percent_off": 5},  # cup 1900: worse than 1840
        ],
    )
    order = flow.place([(world.tea, 1), (world.cup, 1)])
    assert _lines(flow, order["id"]) == [(4600, "level_discount", None, None), (1840, "level_discount", None, None)]
    assert order["member_discount_total"] == 560


def test_the_best_discount_wins_rounded_half_up_and_a_level_package_counts_without_a_grant(
    flow, world, session, clock, odd_sku
):
    _levels(flow, session, clock, 2)  # 2 % off
    _grant(session, clock, world.shop_id, world.customer_id, [{"type": "member_discount", "percent_off": 5}])
    vip = _level_package(session, world.shop_id, 2, [{"type": "member_discount", "percent_off": 10}])
    _level_package(session, world.shop_id, 3, [{"type": "member_discount", "percent_off": 30}])  # not reached
    order = flow.place([(world.tea, 1), (odd_sku, 1)])
    # 10 % off: tea 4500; the odd SKU 1999 - round_half_up(199.9) = 1799
    assert _lines(flow, order["id"]) == [
        (4500, "benefit_discount", None, vip.id),
        (1799, "benefit_discount", None, vip.id),
    ]


def test_an_expired_or_used_grant_gives_nothing(flow, world, session, clock):
    _grant(
        session,
        clock,
        world.shop_id,
        world.customer_id,
        [{"type": "member_discount", "percent_off": 20, "valid_days": 1}],
    )
    used = _grant(session, clock, world.shop_id, world.customer_id, [{"type": "member_discount", "percent_off": 30}])
    benefits.use_grant(session, shop_id=world.shop_id, grant_id=used.id, now=clock.now(), expected_version=None)
    session.commit()
    assert _lines(flow, flow.place([(world.tea, 1)])["id"])[0][:2] == (4000, "benefit_discount")
    clock.advance(days=2)
    assert _lines(flow, flow.place([(world.tea, 1)])["id"]) == [(5000, None, None, None)]


def test_another_shops_grant_and_level_package_give_nothing(flow, world, session, clock):
    other = ShopFactory()
    session.commit()
    # A grant row of the other shop naming this customer, and a level package any member there reaches.
    _grant(session, clock, other.id, world.customer_id, [{"type": "member_discount", "percent_off": 50}])
    _level_package(session, other.id, 2, [{"type": "member_discount", "percent_off": 50}])
    _levels(flow, session, clock, 2)
    order = flow.place([(world.tea, 1)])
    assert _lines(flow, order["id"]) == [(4900, "level_discount", None, None)]


def test_a_guest_gets_no_rights(flow, world, session, clock):
    _level_package(
        session, world.shop_id, 2, [{"type": "member_discount", "percent_off": 10}, {"type": "free_shipping"}]
    )
    _fees_plugin(session, world.shop_id)
    set_customer_level(
        session, shop_id=world.shop_id, customer_id=world.customer_id, level=2, reason="t", now=clock.now()
    )
    session.commit()
    order = flow.place([(world.tea, 1)])  # the member reaches the V2 package's rights
    assert _lines(flow, order["id"])[0][:2] == (4500, "benefit_discount") and order["fee_total"] == 300
    guest = flow.checkout(flow.cart([(world.tea, 1)], customer=False)).get_json()
    assert _lines(flow, guest["id"]) == [(5000, None, None, None)]
    assert (guest["fee_total"], guest["total"]) == (1100, 6100)
    assert not any(fee.get("waived") for fee in guest["fees"])


def test_free_shipping_waives_only_shipping_fees_and_the_order_shows_it(client, flow, world, session, clock):
    _fees_plugin(session, world.shop_id)
    before = flow.place([(world.tea, 1)])
    assert (before["fee_total"], before["total"]) == (1100, 6100)
    grant = _grant(session, clock, world.shop_id, world.customer_id, [{"type": "free_shipping"}], name="包邮礼")
    order = flow.place([(world.tea, 1)])
    assert order["fees"] == [
        {
            "label": "Shipping",
            "amount": 0,
            "kind": "shipping",
            "waived": True,
            "original_amount": 800,
            "benefit_grant_id": grant.id,
            "benefit_package_id": grant.package_id,
        },
        {"label": "Gift wrap", "amount": 200},
        {"label": "Insurance", "amount": 100, "kind": "other"},
    ]
    assert (order["fee_total"], order["total"]) == (300, 5300)

    owner = create_user(session, email="owner@tea.example", name="Olive", password="correct horse")
    add_staff(session, shop_id=world.shop_id, user=owner, role="owner")
    session.commit()
    assert client.post("/login", data={"email": "owner@tea.example", "password": "correct horse"}).status_code == 302
    page = client.get(f"/shops/{world.shop_id}/orders/{order['id']}").get_data(as_text=True)
    assert "Waived: free shipping from 包邮礼" in page and "<s>¥8.00</s> ¥0.00" in page
    zh = client.get(f"/shops/{world.shop_id}/orders/{order['id']}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "已免：包邮礼 的包邮权益" in zh


def test_the_order_page_names_the_benefit_perk_in_both_languages(client, flow, world, session, clock):
    _levels(flow, session, clock, 3)
    _grant(
        session,
        clock,
        world.shop_id,
        world.customer_id,
        [{"type": "member_price", "sku_id": world.tea, "price": 4000}],
        name="尝鲜价",
    )
    order = flow.place([(world.tea, 1), (world.cup, 1)])
    owner = create_user(session, email="owner@tea.example", name="Olive", password="correct horse")
    add_staff(session, shop_id=world.shop_id, user=owner, role="owner")
    session.commit()
    assert client.post("/login", data={"email": "owner@tea.example", "password": "correct horse"}).status_code == 302
    url = f"/shops/{world.shop_id}/orders/{order['id']}"
    page = client.get(url).get_data(as_text=True)
    assert "Benefit price" in page and "尝鲜价" in page and "Level discount" in page
    assert "Member perks (V3 level perks and benefit rights), already in the subtotal" in page
    zh = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "权益价" in zh and "等级折扣" in zh and "会员优惠（V3 等级权益与权益包），已计入小计" in zh


def test_the_cart_preview_agrees_with_checkout(flow, world, session, clock, odd_sku):
    _levels(flow, session, clock, 3)
    grant = _grant(
        session,
        clock,
        world.shop_id,
        world.customer_id,
        [
            {"type": "member_price", "sku_id": world.tea, "price": 4000},
            {"type": "member_discount", "percent_off": 7},
            {"type": "free_shipping"},
        ],
    )
    cart_id = flow.cart([(world.tea, 2), (world.cup, 1), (odd_sku, 3)])
    preview = flow.get(f"/carts/{cart_id}").get_json()["preview"]
    assert preview["free_shipping"] is True
    order = flow.checkout(cart_id).get_json()
    seen = [(line["unit_price"], line["member_perk"], line["benefit_grant_id"]) for line in preview["lines"]]
    assert seen == [
        (4000, "benefit_price", grant.id),
        (1860, "benefit_discount", grant.id),
        (1859, "benefit_discount", grant.id),
    ]
    assert seen == [(line[0], line[1], line[2]) for line in _lines(flow, order["id"])]
    assert (preview["subtotal"], preview["member_discount_total"]) == (
        order["subtotal"],
        order["member_discount_total"],
    )
    guest = flow.get(f"/carts/{flow.cart([(world.tea, 1)], customer=False)}").get_json()["preview"]
    assert guest["free_shipping"] is False and guest["lines"][0]["member_perk"] is None


def test_refunds_of_benefit_priced_lines_are_exact(flow, world, session, clock, coupon):
    _fees_plugin(session, world.shop_id)
    _levels(flow, session, clock, 3)
    _grant(
        session,
        clock,
        world.shop_id,
        world.customer_id,
        [{"type": "member_price", "sku_id": world.tea, "price": 4000}, {"type": "free_shipping"}],
    )
    order = flow.place([(world.tea, 2), (world.cup, 1)], coupon_codes=["TEA10"])
    # 2 × 4000 + 1900 = 9900; TEA10 takes 1000; fees 300 after free shipping
    assert (order["subtotal"], order["discount_total"], order["fee_total"], order["total"]) == (9900, 1000, 300, 9200)
    flow.pay(order["id"])
    tea = next(line for line in order["lines"] if line["sku_id"] == world.tea)
    r = flow.post(
        f"/orders/{order['id']}/refunds", {"reason": "damaged", "lines": [{"line_id": tea["id"], "quantity": 1}]}
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["amount"] + r.get_json()["stored_value_amount"] == tea["line_total"] // 2
    r = flow.post(f"/orders/{order['id']}/refunds", {"reason": "damaged"})
    assert r.status_code == 201, r.get_json()
    detail = flow.get(f"/orders/{order['id']}").get_json()
    assert detail["refunded_total"] == order["total"] + order["stored_value_used"]
    assert check_invariants(db.session) == []


def test_a_fees_kind_is_optional_and_checked_by_the_contract():
    contract = POINTS["order.extra_fee"]
    assert contract.output_problems({"fees": [{"label": "Shipping", "amount": 800}]}) == []  # as before
    assert contract.output_problems({"fees": [{"label": "Shipping", "amount": 800, "kind": "shipping"}]}) == []
    assert contract.output_problems({"fees": [{"label": "Post", "amount": 1, "kind": "postage"}]}) != []

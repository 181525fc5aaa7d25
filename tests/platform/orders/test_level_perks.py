"""Level perks in the checkout pipeline (docs/architecture.md §5.7): member prices, the level's discount,
coupons on member prices, the points multiplier on payment and refund, plugins after the perks, guests,
and the member-prices API with its refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from plugin_modules import TEN_PERCENT, constant_plugin

from factories import token_for
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.ledger.services import check_invariants
from souk_platform.members.models import MemberPrice
from souk_platform.members.services import set_customer_level
from souk_platform.plugins.services import create_activation, upload_plugin

PERKS = [
    {"level": 1, "name": "普通会员"},
    {"level": 2, "name": "银卡", "discount_bps": 200},
    {"level": 3, "name": "金卡", "discount_bps": 500, "points_multiplier_percent": 150},  # 9.5折, 1.5×
    {"level": 4, "name": "铂金", "discount_bps": 800, "points_multiplier_percent": 200},
    {"level": 5, "name": "黑金", "discount_bps": 1000, "points_multiplier_percent": 300},
]


def _set_perks(flow: Any, levels: list[dict[str, Any]] = PERKS) -> None:
    r = flow.client.put("/api/v1/member-levels", json={"levels": levels}, headers=flow.world.headers)
    assert r.status_code == 200, r.get_json()


def _level(session: Any, clock: Any, world: Any, level: int) -> None:
    set_customer_level(
        session, shop_id=world.shop_id, customer_id=world.customer_id, level=level, reason="test", now=clock.now()
    )
    session.commit()


def _member_price(flow: Any, sku_id: str, level: int, price: int) -> dict[str, Any]:
    r = flow.post("/member-prices", {"sku_id": sku_id, "level": level, "price": price})
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def _order(flow: Any, order_id: str) -> dict[str, Any]:
    r = flow.get(f"/orders/{order_id}")
    assert r.status_code == 200
    return dict(r.get_json())


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


def test_a_guest_pays_list_prices_and_the_order_records_no_perk(flow, world, session, clock):
    _set_perks(flow)
    cart = flow.client.post(
        "/api/v1/carts", json={"lines": [{"sku_id": world.tea, "quantity": 1}]}, headers=world.headers
    ).get_json()
    order = flow.checkout(cart["id"]).get_json()
    assert (order["subtotal"], order["member_level"], order["member_discount_total"]) == (5000, None, 0)
    assert order["points_multiplier_percent"] == 100
    assert [(line["unit_price"], line["list_price"], line["member_perk"]) for line in order["lines"]] == [
        (5000, 5000, None)
    ]


def test_the_level_discount_rounds_each_unit_half_up_and_is_recorded(flow, world, session, clock, odd_sku):
    _set_perks(flow)
    _level(session, clock, world, 3)
    order = flow.place([(world.tea, 2), (odd_sku, 3)])
    # tea 5000 - 250 = 4750; the odd SKU 1999 - round_half_up(99.95) = 1899
    lines = [
        (line["unit_price"], line["list_price"], line["member_perk"], line["member_discount"])
        for line in _order(flow, order["id"])["lines"]
    ]
    assert lines == [(4750, 5000, "level_discount", 500), (1899, 1999, "level_discount", 300)]
    assert (order["subtotal"], order["member_discount_total"], order["total"]) == (15197, 800, 15197)
    assert (order["member_level"], order["points_multiplier_percent"]) == (3, 150)
    created = db.session.scalar(
        sa.select(OutboxEvent).where(OutboxEvent.subject_id == order["id"], OutboxEvent.type == "order.created")
    )
    assert created.payload["member_discount_total"] == 800 and created.payload["lines"][0]["list_price"] == 5000


def test_a_member_price_wins_over_the_level_discount_for_its_sku_only(flow, world, session, clock):
    _set_perks(flow)
    _level(session, clock, world, 3)
    _member_price(flow, world.tea, 3, 4000)
    _member_price(flow, world.cup, 2, 1000)  # another level's price: V3 does not get it
    order = flow.place([(world.tea, 1), (world.cup, 1)])
    lines = [(line["unit_price"], line["member_perk"]) for line in _order(flow, order["id"])["lines"]]
    assert lines == [(4000, "member_price"), (1900, "level_discount")]
    assert (order["subtotal"], order["member_discount_total"]) == (5900, 1100)


def test_coupons_apply_to_the_member_priced_subtotal(flow, world, session, clock, coupon):
    """TEA10 takes 1000 off orders of at least 5000: the member price decides whether an order reaches it."""
    _set_perks(flow)
    _level(session, clock, world, 3)
    _member_price(flow, world.tea, 3, 4000)
    order = flow.place([(world.tea, 1), (world.cup, 1)], coupon_codes=["TEA10"])
    assert (order["subtotal"], order["discount_total"], order["total"]) == (5900, 1000, 4900)
    # the coupon's share is spread over the member-priced amounts: 1000 × 4000/5900 = 677, the rest 323
    assert [line["discount"] for line in _order(flow, order["id"])["lines"]] == [677, 323]
    before = flow.snapshot()
    r = flow.checkout(flow.cart([(world.tea, 1)]), coupon_codes=["TEA10"])  # 5000 at list, 4000 for V3
    assert r.status_code == 422 and r.get_json()["type"].endswith("/coupon-not-applicable")
    assert flow.snapshot() == before


def test_a_member_never_pays_more_than_the_list_price(flow, world, session, clock):
    _set_perks(flow, [{"level": n, "name": f"V{n}"} for n in range(1, 6)])
    _level(session, clock, world, 2)
    price = _member_price(flow, world.tea, 2, 4500)
    db.session.execute(sa.update(MemberPrice).where(MemberPrice.id == price["id"]).values(price=9000))
    db.session.commit()  # as if the list price had been cut below the member price since
    order = flow.place([(world.tea, 1)])
    line = _order(flow, order["id"])["lines"][0]
    assert (line["unit_price"], line["member_perk"], order["member_discount_total"]) == (5000, None, 0)


def test_the_points_multiplier_applies_on_payment_and_refunds_revoke_in_proportion(flow, world, session, clock):
    _set_perks(flow)
    _level(session, clock, world, 3)
    before = flow.balances()
    order = flow.place([(world.tea, 1), (world.cup, 1)])  # 4750 + 1900 = 6650
    flow.pay(order["id"])
    paid = _order(flow, order["id"])
    assert paid["points_earned"] == 99  # 66 whole yuan × 1 point × 1.5 = 99
    assert flow.balances()["points"] - before["points"] == 99
    # The level changes after checkout: the order keeps the multiplier it was placed with.
    _level(session, clock, world, 1)
    r = flow.post(f"/orders/{order['id']}/refunds", {"amount": 3325, "reason": "half"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["points_revoked"] == 49  # 99 × 3325/6650, rounded down
    r = flow.post(f"/orders/{order['id']}/refunds", {"reason": "the rest"})
    assert r.status_code == 201 and r.get_json()["points_revoked"] == 50
    assert flow.balances()["points"] == before["points"]
    assert check_invariants(db.session) == []


def test_plugins_see_member_prices_and_can_override(flow, world, session, clock):
    """cart.discounts plugins run after the perks (10 % of the member-priced subtotal); a points.earn plugin's
    answer replaces the multiplied built-in rule."""
    _set_perks(flow)
    _level(session, clock, world, 3)
    for name, point, module in (
        ("ten", "cart.discounts", TEN_PERCENT),
        ("seven points", "points.earn", constant_plugin({"points": 7})),
    ):
        plugin = upload_plugin(session, shop_id=world.shop_id, name=name, point=point, module=module)
        create_activation(session, shop_id=world.shop_id, plugin_id=plugin.id)
    session.commit()
    order = flow.place([(world.tea, 2)])  # 2 × 4750
    assert (order["subtotal"], order["discount_total"], order["total"]) == (9500, 950, 8550)
    flow.pay(order["id"])
    assert _order(flow, order["id"])["points_earned"] == 7


def test_a_cart_preview_shows_the_customers_member_prices(flow, world, session, clock):
    _set_perks(flow)
    _level(session, clock, world, 4)
    cart_id = flow.cart([(world.tea, 1)])
    preview = flow.get(f"/carts/{cart_id}").get_json()["preview"]
    assert (preview["subtotal"], preview["member_discount_total"]) == (4600, 400)
    assert (preview["lines"][0]["unit_price"], preview["lines"][0]["list_price"]) == (4600, 5000)


# --- the member-prices API ---------------------------------------------------------------------------------------


def test_member_prices_crud_with_versions_events_and_filters(flow, world):
    created = _member_price(flow, world.tea, 3, 4000)
    assert {k: created[k] for k in ("sku_id", "product_id", "level", "price", "list_price", "currency")} == {
        "sku_id": world.tea,
        "product_id": world.product_id,
        "level": 3,
        "price": 4000,
        "list_price": 5000,
        "currency": "CNY",
    }
    other = _member_price(flow, world.cup, 3, 1500)
    _member_price(flow, world.tea, 4, 3800)
    assert [p["id"] for p in flow.get(f"/member-prices?sku_id={world.tea}&level=3").get_json()["items"]] == [
        created["id"]
    ]
    page = flow.get("/member-prices?level=3&limit=1").get_json()
    assert [p["id"] for p in page["items"]] == [other["id"]] and page["next_cursor"]
    rest = flow.get(f"/member-prices?level=3&limit=1&cursor={page['next_cursor']}").get_json()
    assert [p["id"] for p in rest["items"]] == [created["id"]]
    assert len(flow.get(f"/member-prices?product_id={world.product_id}").get_json()["items"]) == 3

    url = f"/api/v1/member-prices/{created['id']}"
    stale = flow.client.patch(url, json={"price": 3900}, headers={**world.headers, "If-Match": '"7"'})
    assert stale.status_code == 412
    r = flow.client.patch(url, json={"price": 3900}, headers={**world.headers, "If-Match": '"1"'})
    assert r.status_code == 200 and (r.get_json()["price"], r.get_json()["version"]) == (3900, 2)
    assert flow.client.delete(url, headers={**world.headers, "If-Match": '"1"'}).status_code == 412
    assert flow.client.delete(url, headers=world.headers).status_code == 204
    assert flow.get(f"/member-prices/{created['id']}").status_code == 404
    types = list(
        db.session.scalars(
            sa.select(OutboxEvent.type).where(OutboxEvent.subject_id == created["id"]).order_by(OutboxEvent.id)
        )
    )
    assert types == ["member_price.created", "member_price.updated", "member_price.deleted"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"level": 3, "price": 6000}, 422, "price"),  # above the list price
        ({"level": 3, "price": -1}, 422, "price"),
        ({"level": 0, "price": 100}, 422, "level"),
        ({"level": 6, "price": 100}, 422, "level"),
        ({"level": 3, "price": 100.5}, 422, "price"),
        ({"level": 3, "price": "100"}, 422, "price"),
        ({"level": 3, "price": 100, "currency": "USD"}, 422, "currency"),  # unknown field
        ({"level": 3}, 422, "price"),
        ({"level": 3, "price": 100, "sku_id": "sku_00000000000000000000000000"}, 422, "sku_id"),
        ({"level": 3, "price": 100, "sku_id": "x" * 65}, 422, "sku_id"),
    ],
)
def test_bad_member_prices_are_refused_and_write_nothing(flow, world, body, status, field):
    body = {"sku_id": world.tea, **body}
    r = flow.post("/member-prices", body)
    assert r.status_code == status, r.get_json()
    assert r.content_type == "application/problem+json"
    assert field in json.dumps(r.get_json()["errors"]), r.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberPrice)) == 0


def test_a_second_price_for_the_same_sku_and_level_is_409(flow, world):
    first = _member_price(flow, world.tea, 3, 4000)
    r = flow.post("/member-prices", {"sku_id": world.tea, "level": 3, "price": 3000})
    assert r.status_code == 409 and r.get_json()["member_price_id"] == first["id"]
    assert flow.get(f"/member-prices/{first['id']}").get_json()["price"] == 4000


def test_another_shops_sku_cannot_get_a_member_price(flow, world, session):
    from factories import ShopFactory

    other = ShopFactory()
    session.commit()
    r = flow.client.post(
        "/api/v1/member-prices", json={"sku_id": world.tea, "level": 2, "price": 100}, headers=token_for(other)
    )
    assert r.status_code == 422 and "sku_id" in r.get_json()["errors"]


def test_level_perks_out_of_range_are_422_naming_the_level(flow):
    for entry, path in (
        ({"discount_bps": 10_000}, "levels.2.discount_bps"),
        ({"discount_bps": -1}, "levels.2.discount_bps"),
        ({"points_multiplier_percent": 1001}, "levels.2.points_multiplier_percent"),
        ({"points_multiplier_percent": 1.5}, "levels.2.points_multiplier_percent"),
    ):
        levels = [dict(level) for level in PERKS]
        levels[2].update(entry)
        r = flow.client.put("/api/v1/member-levels", json={"levels": levels}, headers=flow.world.headers)
        assert r.status_code == 422, (entry, r.get_json())
        errors = r.get_json()["errors"]
        flat = json.dumps(errors)
        assert path.split(".")[-1] in flat and "2" in flat, errors
    assert flow.get("/member-levels").get_json()["configured"] is False


def test_the_order_page_shows_the_perks_in_both_languages(client, flow, world, session, clock):
    from souk_platform.auth.services import create_user
    from souk_platform.shops.services import add_staff

    _set_perks(flow)
    _level(session, clock, world, 3)
    _member_price(flow, world.tea, 3, 4000)
    order = flow.place([(world.tea, 1), (world.cup, 1)])
    flow.pay(order["id"])
    owner = create_user(session, email="owner@perks.example", name="Olive", password="correct horse")
    add_staff(session, shop_id=world.shop_id, user=owner, role="owner")
    session.commit()
    client.post("/login", data={"email": "owner@perks.example", "password": "correct horse"})
    url = f"/shops/{world.shop_id}/orders/{order['id']}"
    english = client.get(url, headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "Member price" in english and "Level discount" in english and "<s>¥50.00</s>" in english
    assert "Level perks (V3), already in the subtotal" in english and "-¥11.00" in english  # 1000 + 100 fen
    assert "level multiplier ×1.5" in english
    client.get("/language/zh_CN")
    chinese = client.get(url).get_data(as_text=True)
    assert "会员价" in chinese and "等级折扣" in chinese and "会员权益（V3），已计入小计" in chinese
    assert "等级积分倍率 ×1.5" in chinese

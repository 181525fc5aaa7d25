"""member.level plugins: one call per paid order, with the member's stats; the hourly job asks them too."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from plugin_modules import constant_plugin
from structlog.testing import capture_logs

from factories import ShopFactory, token_for
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.customers.models import Customer
from souk_platform.customers.services import create_customer
from souk_platform.members.models import MemberLevelChange
from souk_platform.members.services import save_level_config
from souk_platform.members.tasks import evaluate_member_levels
from souk_platform.plugins.models import PluginInvocation
from souk_platform.plugins.services import create_activation, upload_plugin

LEVEL_THREE = constant_plugin({"level": 3})
# Rules no purchase in these tests reaches: the built-in rule alone moves nobody.
OUT_OF_REACH = [
    {"level": 1, "name": "V1"},
    {"level": 2, "name": "V2", "upgrade": {"spend": 10**9}},
    {"level": 3, "name": "V3", "upgrade": {"spend": 10**10}},
    {"level": 4, "name": "V4"},
    {"level": 5, "name": "V5"},
]


def _level_plugin(session: Any, shop_id: str) -> str:
    plugin = upload_plugin(session, shop_id=shop_id, name="levels", point="member.level", module=LEVEL_THREE)
    create_activation(session, shop_id=shop_id, plugin_id=plugin.id)
    return plugin.id


def _level_calls(session: Any, shop_id: str) -> list[PluginInvocation]:
    session.expire_all()
    return list(
        session.scalars(
            sa.select(PluginInvocation).where(
                PluginInvocation.shop_id == shop_id, PluginInvocation.point == "member.level"
            )
        )
    )


def _level(session: Any, customer_id: str) -> int:
    session.expire_all()
    return int(session.scalar(sa.select(Customer.level).where(Customer.id == customer_id)))


def test_a_paid_order_asks_the_level_plugin_once_with_the_members_stats(client: Any, session: Any) -> None:
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Tea",
        status="active",
        skus=[NewSku(code="T", title="T", price=5000, on_hand=5)],
    )
    customer = create_customer(session, shop_id=shop.id, name="王小明", phone="13800000031")
    _level_plugin(session, shop.id)
    session.commit()
    headers = token_for(shop)

    body = {"lines": [{"sku_id": product.skus[0].id, "quantity": 1}], "customer_id": customer.id}
    cart = client.post("/api/v1/carts", json=body, headers=headers).get_json()
    order = client.post(f"/api/v1/carts/{cart['id']}/checkout", json={}, headers=headers).get_json()
    with capture_logs() as logs:
        payment = client.post(f"/api/v1/orders/{order['id']}/payments", json={}, headers=headers).get_json()
        if payment["status"] == "pending":
            r = client.post(
                f"/api/v1/payments/{payment['id']}/callback", json={"outcome": "succeeded"}, headers=headers
            )
            assert r.status_code == 200, r.get_json()

    calls = _level_calls(session, shop.id)
    assert len(calls) == 1
    assert calls[0].outcome == "ok"
    assert '"member":{"spend_in_window":5000' in (calls[0].input or "")
    assert _level(session, customer.id) == 3
    skipped = [entry for entry in logs if "outside the point's schema" in entry["event"]]
    assert skipped == []  # the second, member-less call used to warn on every paid order


def test_the_hourly_job_asks_the_plugin_about_customers_the_rules_leave_alone(session: Any) -> None:
    with_rules, without_rules, untouched = ShopFactory(), ShopFactory(), ShopFactory()
    save_level_config(
        session,
        shop_id=with_rules.id,
        window_days=30,
        downgrade_period_days=7,
        levels=OUT_OF_REACH,
        expected_version=None,
    )
    ruled = [create_customer(session, shop_id=with_rules.id, name=f"R{i}") for i in range(2)]
    unruled = create_customer(session, shop_id=without_rules.id, name="U")
    bystander = create_customer(session, shop_id=untouched.id, name="B")
    for shop in (with_rules, without_rules):
        _level_plugin(session, shop.id)
    session.commit()

    assert evaluate_member_levels() == 3
    assert [_level(session, c.id) for c in (*ruled, unruled)] == [3, 3, 3]
    assert _level(session, bystander.id) == 1  # neither rules nor a plugin: not evaluated
    changes = session.scalars(sa.select(MemberLevelChange).where(MemberLevelChange.customer_id == unruled.id))
    assert [(c.from_level, c.to_level, c.source) for c in changes] == [(1, 3, "rule")]

    assert evaluate_member_levels() == 0  # the plugin answers alike: nothing moves again

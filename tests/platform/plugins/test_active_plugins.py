"""The plugins a point runs are read once per transaction, and a change in that transaction is seen at once."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from plugin_modules import FIVE_OFF, TEN_PERCENT

from souk_platform.plugins.models import ShopPluginActivation
from souk_platform.plugins.services import active_plugins, create_activation, update_activation, upload_plugin

POINTS = ("cart.validate", "cart.discounts", "order.extra_fee", "order.validate")


def _activation_reads(session: Any) -> list[str]:
    """The statements reading activations sent on the session's connection from now on."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "activations" in statement:
            seen.append(statement)

    sa.event.listen(session.connection(), "before_cursor_execute", note)
    return seen


def _names(session: Any, shop_id: str, point: str = "cart.discounts") -> list[str]:
    return [entry.plugin.name for entry in active_plugins(session, shop_id=shop_id, point=point)]


def test_the_points_of_one_transaction_read_the_activations_once(app, shop, session):
    plugin = upload_plugin(session, shop_id=shop.id, name="five", point="cart.discounts", module=FIVE_OFF)
    create_activation(session, shop_id=shop.id, plugin_id=plugin.id)
    session.commit()
    seen = _activation_reads(session)
    by_point = {point: _names(session, shop.id, point) for point in POINTS}
    assert by_point == {"cart.validate": [], "cart.discounts": ["five"], "order.extra_fee": [], "order.validate": []}
    assert len(seen) == 2  # the shop's own activations and its apps', for every point at once
    session.commit()
    assert _names(session, shop.id) == ["five"]
    assert len(seen) == 4  # a new transaction reads them again


def test_a_change_in_the_same_transaction_is_seen_by_the_next_point(app, shop, session):
    five = upload_plugin(session, shop_id=shop.id, name="five", point="cart.discounts", module=FIVE_OFF)
    ten = upload_plugin(session, shop_id=shop.id, name="ten", point="cart.discounts", module=TEN_PERCENT)
    session.commit()
    assert _names(session, shop.id) == []
    first = create_activation(session, shop_id=shop.id, plugin_id=five.id, position=2)
    assert _names(session, shop.id) == ["five"]
    create_activation(session, shop_id=shop.id, plugin_id=ten.id, position=1)
    assert _names(session, shop.id) == ["ten", "five"]
    update_activation(session, shop_id=shop.id, activation_id=first.id, changes={"enabled": False})
    assert _names(session, shop.id) == ["ten"]
    # a bulk statement bypasses the flush; it is seen too
    session.execute(sa.update(ShopPluginActivation).where(ShopPluginActivation.shop_id == shop.id).values(enabled=True))
    assert _names(session, shop.id) == ["ten", "five"]


def test_a_savepoint_rolled_back_takes_its_activations_with_it(app, shop, session):
    five = upload_plugin(session, shop_id=shop.id, name="five", point="cart.discounts", module=FIVE_OFF)
    session.commit()
    assert _names(session, shop.id) == []
    with session.begin_nested() as savepoint:
        create_activation(session, shop_id=shop.id, plugin_id=five.id)
        assert _names(session, shop.id) == ["five"]
        savepoint.rollback()
    assert _names(session, shop.id) == []

"""The demo's points mall is stocked and its redemptions went through the one pipeline (§5.14)."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.ledger.services import check_invariants
from souk_platform.orders.models import Order
from souk_platform.points_mall.models import MallItem, MallRedemption
from souk_platform.seeds import STEPS

STEP = "The points mall / 积分商城"


def test_the_demo_mall_has_every_kind_of_item_and_redemptions(session):
    shop = ShopFactory()
    names = [name for name, _ in STEPS]
    assert names.index(STEP) < names.index("Journeys / 营销画布")  # the journeys' steps stay last
    for _, step in STEPS:
        step(session, shop)
        session.commit()
    items = list(session.scalars(sa.select(MallItem).where(MallItem.shop_id == shop.id)))
    assert {i.kind for i in items} == {"goods", "coupon", "benefit_package"}
    assert any(i.cash for i in items) and any(i.min_level for i in items) and any(i.status == "draft" for i in items)
    redemptions = list(session.scalars(sa.select(MallRedemption).where(MallRedemption.shop_id == shop.id)))
    assert len(redemptions) >= 4
    assert {"fulfilled", "paid"} <= {r.status for r in redemptions}
    assert any(r.cash and r.status == "paid" for r in redemptions)  # points + cash, paid
    channels = set(session.scalars(sa.select(Order.channel).where(Order.id.in_([r.order_id for r in redemptions]))))
    assert channels == {"points_mall"}
    assert check_invariants(session) == []
    dict(STEPS)[STEP](session, shop)  # seeding again does nothing
    assert session.scalar(
        sa.select(sa.func.count()).select_from(MallRedemption).where(MallRedemption.shop_id == shop.id)
    ) == len(redemptions)

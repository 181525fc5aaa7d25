"""The demo seeds two journeys from templates, one of them active (docs/architecture.md §5.12)."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.benefits import demo as benefits_demo
from souk_platform.journeys import demo
from souk_platform.journeys.models import Journey, JourneyVersion


def test_demo_journeys(session):
    shop = ShopFactory()
    benefits_demo.seed(session, shop)
    demo.seed(session, shop)
    demo.seed(session, shop)  # once per shop
    journeys = {j.template_key: j for j in session.scalars(sa.select(Journey).where(Journey.shop_id == shop.id))}
    assert set(journeys) == {"birthday_care", "dormant_winback"}
    active = journeys["birthday_care"]
    assert active.status == "active" and active.name == "会员生日关怀"
    assert session.get(JourneyVersion, active.current_version_id).number == 1
    assert journeys["dormant_winback"].status == "draft"

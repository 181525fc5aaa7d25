"""Demo level perks for ``souk demo``: a discount and points multiplier per level, a few member prices, and a
V3 rule counting spend on tea ware (docs/architecture.md §5.7). Runs after the customers' level rules and
before the demo orders, so those orders are priced for their buyers' levels."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.catalog.models import Category, Sku
from souk_platform.db import DbSession
from souk_platform.members.models import MemberPrice
from souk_platform.members.perks import create_member_price
from souk_platform.members.services import get_level_config, save_level_config
from souk_platform.shops.models import Shop

# level → (basis points off list prices, points multiplier in percent): V2 9.8折, V3 9.5折 1.2×, …
PERKS = {1: (0, 100), 2: (200, 100), 3: (500, 120), 4: (800, 150), 5: (1200, 200)}
# SKU code → {level: member price in fen}: 会员价 that beat the level's discount
MEMBER_PRICES = {
    "LJ-250G": {3: 35800, 4: 34800, 5: 32800},
    "GIFT-3": {4: 52800, 5: 49800},
}
TEA_WARE = "茶具"
TEA_WARE_SPEND = 100_000  # V3 also for 1,000 yuan spent on tea ware within the window


def seed(session: DbSession, shop: Shop) -> None:
    """Add perks to the shop's levels and set the member prices (once: nothing when member prices exist)."""
    if session.scalar(sa.select(MemberPrice.id).where(MemberPrice.shop_id == shop.id).limit(1)) is not None:
        return
    config = get_level_config(session, shop_id=shop.id)
    tea_ware = session.scalar(sa.select(Category.id).where(Category.shop_id == shop.id, Category.name == TEA_WARE))
    levels = []
    for entry in config["levels"]:
        level = dict(entry)
        level["discount_bps"], level["points_multiplier_percent"] = PERKS[int(level["level"])]
        if level["level"] == 3 and tea_ware is not None and level.get("upgrade"):
            level["upgrade"] = {**level["upgrade"], "category": {"category_id": tea_ware, "spend": TEA_WARE_SPEND}}
        levels.append(level)
    save_level_config(
        session,
        shop_id=shop.id,
        window_days=config["window_days"],
        downgrade_period_days=config["downgrade_period_days"],
        levels=levels,
        expected_version=config["version"],
    )
    skus = dict(
        (code, sku_id)
        for code, sku_id in session.execute(
            sa.select(Sku.code, Sku.id).where(Sku.shop_id == shop.id, Sku.code.in_(list(MEMBER_PRICES)))
        )
    )
    for code, by_level in MEMBER_PRICES.items():
        if code in skus:
            for member_level, price in by_level.items():
                create_member_price(session, shop_id=shop.id, sku_id=skus[code], level=member_level, price=price)

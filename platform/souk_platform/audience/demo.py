"""Demo segments over the filter-field registry for ``souk demo`` (after the orders step; docs/architecture.md §5.8)."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.audience.schemas import load_condition_group
from souk_platform.catalog.models import Product
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop
from souk_platform.tags.models import Segment
from souk_platform.tags.services import create_segment

NAME = "茶具类复购高客单"


def seed(session: DbSession, shop: Shop) -> None:
    """Two segments written with the new leaf shape (once per shop): the seed's kind of 人群包, and a win-back list."""
    if session.scalar(sa.select(Segment.id).where(Segment.shop_id == shop.id, Segment.name == NAME)) is not None:
        return
    category_id = session.scalar(
        sa.select(Product.category_id).where(Product.shop_id == shop.id).order_by(Product.created_at, Product.id)
    )
    if category_id is None:
        return
    in_category = {"window_days": 90, "category_id": category_id}
    create_segment(
        session,
        shop_id=shop.id,
        name=NAME,
        description="过去90天在该类目消费2次以上且客单价大于100元",
        condition=load_condition_group(
            {
                "op": "and",
                "conditions": [
                    {"field": "trade.orders_count", "params": in_category, "cmp": "gte", "value": 2},
                    {"field": "trade.avg_order_value", "params": in_category, "cmp": "gt", "value": 10_000},
                ],
            }
        ),
    )
    create_segment(
        session,
        shop_id=shop.id,
        name="浏览未购买的会员",
        description="最近7天浏览过商品但此后没有购买，或20天没有下单的银卡以上会员",
        condition=load_condition_group(
            {
                "op": "or",
                "conditions": [
                    {
                        "field": "behaviour.product_viewed_not_bought",
                        "params": {"window_days": 7},
                        "cmp": "is",
                        "value": True,
                    },
                    {
                        "op": "and",
                        "conditions": [
                            {"field": "loyalty.level", "cmp": "gte", "value": 2},
                            {"field": "trade.days_since_last_order", "cmp": "gte", "value": 20},
                        ],
                    },
                ],
            }
        ),
    )

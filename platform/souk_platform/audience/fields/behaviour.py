"""Behaviour fields: customer events — views, carts, searches, visits … (docs/architecture.md §5.8).

``fields/__init__.py`` imports the section modules in a fixed order: defining a field registers it, and
that order is the order of ``GET /segment-fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from souk_platform.audience import sources as src
from souk_platform.audience.compiler import (
    Context,
    PredicateMeasure,
    count_where,
    total,
    window,
)
from souk_platform.audience.fields.core import (
    WINDOW,
    _agg,
    define,
)
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.customers.models import Customer
from souk_platform.orders.models import SOLD_STATUSES, Order, OrderLine

# --- behaviour ----------------------------------------------------------------------------------------------------

EVENT_NAMES = {
    "product_viewed": ("浏览商品", "product views"),
    "cart_added": ("加入购物车", "add-to-carts"),
    "searched": ("搜索", "searches"),
    "page_viewed": ("浏览页面", "page views"),
    "store_visited": ("到店", "store visits"),
    "service_contacted": ("咨询客服", "customer-service contacts"),
    "review_posted": ("发表评价", "reviews"),
    "coupon_viewed": ("查看优惠券", "coupon views"),
    "share_clicked": ("分享", "shares"),
}
SCENE = ("channel", "store", "campaign")
EVENT_PARAMS = {
    "product_viewed": (*WINDOW, "product_id", "category_id", *SCENE),
    "cart_added": (*WINDOW, "product_id", "category_id", *SCENE),
    "review_posted": (*WINDOW, "product_id", "category_id", *SCENE),
    "searched": (*WINDOW, "keyword", *SCENE),
}
_EVENT_MEASURES: list[tuple[str, tuple[str, str], str, Callable[[Any], Any], Any]] = [
    ("count", ("{zh}次数", "Number of {en}"), "count", lambda s: sa.func.count(), 0),
    ("days", ("{zh}天数", "Days with {en}"), "count", lambda s: sa.func.count(sa.distinct(s.c.day)), 0),
    ("first_at", ("首次{zh}时间", "First of the {en}"), "datetime", lambda s: sa.func.min(s.c.at), None),
    ("last_at", ("最近{zh}时间", "Last of the {en}"), "datetime", lambda s: sa.func.max(s.c.at), None),
    (
        "days_since_last",
        ("最近{zh}距今天数", "Days since the last of the {en}"),
        "elapsed",
        lambda s: sa.func.max(s.c.at),
        None,
    ),
    (
        "channels_count",
        ("{zh}渠道数", "Channels of the {en}"),
        "count",
        lambda s: sa.func.count(sa.distinct(s.c.channel)),
        0,
    ),
]
for event_type, (ev_zh, ev_en) in EVENT_NAMES.items():
    params = EVENT_PARAMS.get(event_type, (*WINDOW, *SCENE))
    for suffix, (name_zh, name_en), type_, agg, empty in _EVENT_MEASURES:
        define(
            f"behaviour.{event_type}_{suffix}",
            "behaviour",
            (name_zh.format(zh=ev_zh), name_en.format(en=ev_en)),
            (
                f"时间范围内（按发生时间）类型为 {event_type} 的行为事件，"
                f"可按商品/类目（商品当前类目，含子类目）/搜索词/渠道/门店/活动筛选；取{name_zh.format(zh=ev_zh)}。",
                f"Behaviour events of type {event_type} that happened in the window, filtered by product, category "
                f"(the product's category now, with its subtree), keyword, channel, store or campaign; measures: "
                f"{name_en.format(en=ev_en).lower()}.",
            ),
            type_,
            _agg(f"events:{event_type}", agg, empty),
            params,
        )

_BEHAVIOUR_EXTRA: list[
    tuple[str, tuple[str, str], tuple[str, str], str, str, Callable[[Any], Any], Any, tuple[str, ...]]
] = [
    (
        "distinct_products_viewed",
        ("浏览商品种数", "Distinct products viewed"),
        ("浏览过的不同商品数", "distinct products viewed"),
        "count",
        "events:product_viewed",
        lambda s: sa.func.count(sa.distinct(s.c.product_id)),
        0,
        EVENT_PARAMS["product_viewed"],
    ),
    (
        "distinct_products_carted",
        ("加购商品种数", "Distinct products added to cart"),
        ("加入购物车的不同商品数", "distinct products added to cart"),
        "count",
        "events:cart_added",
        lambda s: sa.func.count(sa.distinct(s.c.product_id)),
        0,
        EVENT_PARAMS["cart_added"],
    ),
    (
        "cart_added_quantity",
        ("加购件数", "Units added to cart"),
        ("加购事件的数量之和（未填按1）", "the quantities added (1 when not given)"),
        "count",
        "events:cart_added",
        lambda s: total(sa.func.coalesce(s.c.quantity, 1)),
        0,
        EVENT_PARAMS["cart_added"],
    ),
    (
        "distinct_keywords",
        ("搜索词个数", "Distinct search keywords"),
        ("搜索过的不同搜索词数（不区分大小写）", "distinct queries (any case)"),
        "count",
        "events:searched",
        lambda s: sa.func.count(sa.distinct(sa.func.lower(s.c.query))),
        0,
        EVENT_PARAMS["searched"],
    ),
    (
        "avg_review_rating",
        ("平均评分", "Average review rating"),
        ("评价的平均星级 1–5", "the reviews' average rating, 1–5"),
        "rating",
        "events:review_posted",
        lambda s: sa.func.avg(s.c.rating),
        None,
        EVENT_PARAMS["review_posted"],
    ),
    (
        "low_reviews_count",
        ("差评次数", "Low reviews"),
        ("1–2 星评价次数", "reviews rated 1 or 2"),
        "count",
        "events:review_posted",
        lambda s: count_where(s.c.rating <= 2),
        0,
        EVENT_PARAMS["review_posted"],
    ),
    (
        "distinct_products_reviewed",
        ("评价商品种数", "Distinct products reviewed"),
        ("评价过的不同商品数", "distinct products reviewed"),
        "count",
        "events:review_posted",
        lambda s: sa.func.count(sa.distinct(s.c.product_id)),
        0,
        EVENT_PARAMS["review_posted"],
    ),
    (
        "distinct_pages_viewed",
        ("浏览页面数", "Distinct pages viewed"),
        ("浏览过的不同页面地址数", "distinct page URLs viewed"),
        "count",
        "events:page_viewed",
        lambda s: sa.func.count(sa.distinct(s.c.url)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "distinct_campaigns",
        ("参与活动数", "Distinct campaigns"),
        ("事件所属的不同活动数", "distinct campaigns of the events"),
        "count",
        "events",
        lambda s: sa.func.count(sa.distinct(s.c.campaign)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "distinct_stores_visited",
        ("到访门店数", "Distinct stores visited"),
        ("到访过的不同门店数", "distinct stores visited"),
        "count",
        "events:store_visited",
        lambda s: sa.func.count(sa.distinct(s.c.store)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "events_count",
        ("行为总次数", "All behaviour events"),
        ("所有类型的事件数", "events of every type"),
        "count",
        "events",
        lambda s: sa.func.count(),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "active_days",
        ("活跃天数", "Active days"),
        ("有任何行为的不同日期数（UTC）", "distinct UTC days with any event"),
        "count",
        "events",
        lambda s: sa.func.count(sa.distinct(s.c.day)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "event_types_count",
        ("行为类型数", "Kinds of behaviour"),
        ("发生过的不同事件类型数", "distinct event types"),
        "count",
        "events",
        lambda s: sa.func.count(sa.distinct(s.c.type)),
        0,
        (*WINDOW, *SCENE),
    ),
    (
        "last_active_at",
        ("最近活跃时间", "Last active"),
        ("最近一次任何行为的时间", "when the last event of any type happened"),
        "datetime",
        "events",
        lambda s: sa.func.max(s.c.at),
        None,
        (*WINDOW, *SCENE),
    ),
    (
        "days_since_last_active",
        ("最近活跃距今天数", "Days since last active"),
        ("最近一次任何行为至今的整天数", "whole days since the last event"),
        "elapsed",
        "events",
        lambda s: sa.func.max(s.c.at),
        None,
        (*WINDOW, *SCENE),
    ),
]
for name, names, definition, type_, source, agg, empty, params in _BEHAVIOUR_EXTRA:
    define(
        f"behaviour.{name}",
        "behaviour",
        names,
        (
            f"时间范围内（按发生时间）的行为事件：{definition[0]}。",
            f"Behaviour events that happened in the window: {definition[1]}.",
        ),
        type_,
        _agg(source, agg, empty),
        params,
    )


def _not_bought_since(event_type: str) -> Callable[..., sa.ColumnElement[bool]]:
    """Some event of the type in the window after which the customer bought nothing of it (see the definition)."""

    def build(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
        event = sa.orm.aliased(CustomerEvent)
        bought = (
            sa.select(sa.literal(1))
            .select_from(Order)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(
                Order.shop_id == ctx.shop_id,
                Order.customer_id == Customer.id,
                Order.status.in_(SOLD_STATUSES),
                Order.paid_at >= event.occurred_at,
            )
        )
        if event_type == "searched":
            query = sa.func.lower(event.properties["query"].as_string())
            bought = bought.where(sa.func.lower(OrderLine.title).contains(query))
        else:
            bought = bought.where(OrderLine.product_id == event.properties["product_id"].as_string())
        scoped = (
            sa.select(sa.literal(1))
            .select_from(event)
            .where(
                event.shop_id == ctx.shop_id,
                event.customer_id == Customer.id,
                event.type == event_type,
                *window(event.occurred_at, ctx, params),
                ~bought.exists(),
            )
        )
        adapted = src.event_filters(ctx, params)
        if adapted:
            adapter = sa.sql.util.ClauseAdapter(sa.inspect(event).selectable)
            adapted_sql = [adapter.traverse(part) for part in adapted]
            scoped = scoped.where(*adapted_sql)
        found = scoped.exists()
        return found if value else sa.not_(found)

    return build


for event_type, (zh, en), def_zh, def_en in (
    (
        "product_viewed",
        ("浏览未购买", "Viewed and not bought since"),
        "浏览过某商品，且此后没有购买该商品",
        "viewed a product and has not bought that product since",
    ),
    (
        "cart_added",
        ("加购未购买", "Added to cart and not bought since"),
        "加购过某商品，且此后没有购买该商品",
        "added a product to the cart and has not bought that product since",
    ),
    (
        "searched",
        ("搜索未购买", "Searched and not bought since"),
        "搜索过某词，且此后没有买过标题包含该词的商品",
        "searched a keyword and has not bought since a product whose title contains it",
    ),
):
    define(
        f"behaviour.{event_type}_not_bought",
        "behaviour",
        (zh, en),
        (
            f"时间范围内{def_zh}（已支付订单，支付时间不早于该行为）；值为 true/false。",
            f"In the window, {def_en} (a sold order paid at or after the event); value true or false.",
        ),
        "bool",
        PredicateMeasure(_not_bought_since(event_type)),
        EVENT_PARAMS[event_type],
    )

"""Two active journeys with customers inside for ``souk demo`` (docs/architecture.md §5.12): 加购未下单提醒 (a
cart without an order within a day gets a coupon) and 沉睡唤醒 A/B (a coupon or points against a holdout)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from souk_platform.core.clock import SystemClock
from souk_platform.coupons.services import create_coupon
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.journeys import engine
from souk_platform.journeys.models import Journey, JourneyVersion
from souk_platform.shops.models import Shop
from souk_platform.tags.services import create_segment

DEMO_KEY = "demo_engine"  # template_key of the journeys seeded here: seeding twice adds nothing


def _node(type: str, params: dict[str, Any], x: int, **next: str) -> dict[str, Any]:
    return {"type": type, "params": params, "next": next, "position": {"x": x, "y": 120}}


def _activate(session: DbSession, shop: Shop, name: str, description: str, graph: dict[str, Any]) -> Journey:
    now = SystemClock().now()
    journey = Journey(
        shop_id=shop.id,
        name=name,
        description=description,
        status="active",
        graph=graph,
        template_key=DEMO_KEY,
        activated_at=now,
    )
    session.add(journey)
    session.flush()
    version = JourneyVersion(shop_id=shop.id, journey_id=journey.id, number=1, graph=graph)
    session.add(version)
    session.flush()
    journey.current_version_id = version.id
    return journey


def seed(session: DbSession, shop: Shop) -> None:
    """Both journeys, customers enrolled and moved to their waits (once per shop)."""
    seeded = session.scalar(
        sa.select(Journey.id).where(Journey.shop_id == shop.id, Journey.template_key == DEMO_KEY).limit(1)
    )
    if seeded is not None:
        return
    now = SystemClock().now()
    coupon = create_coupon(
        session,
        shop_id=shop.id,
        fields={
            "code": "COMEBACK10",
            "name": "回来看看 ¥10",
            "kind": "fixed",
            "value": 1_000,
            "distribution": "issued",
        },
    )
    cart = _activate(
        session,
        shop,
        "加购未下单提醒",
        "加购后一天内没有下单，送一张 10 元券",
        {
            "entry": "start",
            "nodes": {
                "start": _node(
                    "trigger", {"kind": "behaviour", "event": "cart_added", "filter": []}, 0, default="wait"
                ),
                "wait": _node(
                    "wait",
                    {"kind": "event", "event": "order.paid", "filter": [], "timeout_seconds": 86_400},
                    240,
                    event="end",
                    timeout="coupon",
                ),
                "coupon": _node("action", {"action": "issue_coupon", "coupon_id": coupon.id}, 480, default="end"),
                "end": _node("exit", {}, 720),
            },
            "goal": {"event": "order.paid", "filter": [], "within_days": 7},
            "exit": [],
            "settings": {"reentry": {"after_days": 30}},
        },
    )
    everyone = create_segment(
        session,
        shop_id=shop.id,
        name="旅程演示：全部顾客",
        description="沉睡唤醒演示旅程的入口人群",
        condition={"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 0}]},
    )
    _activate(
        session,
        shop,
        "沉睡唤醒 A/B",
        "A 组送券、B 组送积分，留 20% 对照组，看谁更能唤回顾客",
        {
            "entry": "start",
            "nodes": {
                "start": _node("trigger", {"kind": "segment_entered", "segment_id": everyone.id}, 0, default="split"),
                "split": _node(
                    "split",
                    {"variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}], "holdout_percent": 20},
                    240,
                    a="coupon",
                    b="points",
                    holdout="wait",
                ),
                "coupon": _node("action", {"action": "issue_coupon", "coupon_id": coupon.id}, 480, default="wait"),
                "points": _node("action", {"action": "award_points", "points": 100}, 480, default="wait"),
                "wait": _node("wait", {"kind": "duration", "seconds": 3 * 86_400}, 720, default="end"),
                "end": _node("exit", {}, 960),
            },
            "goal": {"event": "order.paid", "filter": [], "within_days": 14},
            "exit": [],
            "settings": {"reentry": "never"},
        },
    )
    session.flush()
    carts = sa.select(Customer.id).where(Customer.shop_id == shop.id).order_by(Customer.id).limit(4)
    engine.enrol_customers(session, journey=cart, graph=cart.graph, customers=carts, now=now)
    engine.run_periodic_triggers(session, now=now)
    while engine.advance_batch(session, now=now):
        pass

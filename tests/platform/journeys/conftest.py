"""Shared builders for the journeys tests: the shop's objects a graph may name."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

from souk_platform.benefits import services as benefits
from souk_platform.coupons import services as coupons
from souk_platform.journeys.templates import template_graph
from souk_platform.messaging.services import create_template, ensure_built_in_channels
from souk_platform.tags import services as tags

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def issued_coupon(session: Any, shop_id: str, name: str = "回归券") -> str:
    coupon = coupons.create_coupon(
        session,
        shop_id=shop_id,
        fields={
            "code": "J" + uuid.uuid4().hex[:10].upper(),
            "name": name,
            "kind": "fixed",
            "value": 500,
            "distribution": "issued",
        },
    )
    return coupon.id


def shop_objects(session: Any, shop_id: str) -> dict[str, str]:
    """One of each kind of object a template's placeholders name, all the shop's own."""
    package = benefits.create_package(
        session,
        shop_id=shop_id,
        fields={"name": "礼包", "trigger": "manual", "trigger_params": {}, "items": [{"type": "points", "points": 10}]},
    )
    tag = tags.create_tag(session, shop_id=shop_id, name="高价值", now=NOW)
    segment = tags.create_segment(
        session,
        shop_id=shop_id,
        name="沉睡顾客",
        description=None,
        condition={"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 1}]},
    )
    email = next(c for c in ensure_built_in_channels(session, shop_id=shop_id) if c.kind == "email")
    template = create_template(
        session,
        shop_id=shop_id,
        fields={"name": "欢迎", "channel_kind": "email", "subject": "你好", "body": "{{ customer_name }}，欢迎回来"},
    )
    return {
        "coupon_id": issued_coupon(session, shop_id),
        "package_id": package.id,
        "tag_id": tag.id,
        "segment_id": segment.id,
        "channel_id": email.id,
        "template_id": template.id,
    }


def filled(key: str, objects: dict[str, str]) -> dict[str, Any]:
    """A template's graph with every placeholder filled with the shop's objects."""
    graph = copy.deepcopy(template_graph(key))
    for node in graph["nodes"].values():
        for name, value in node["params"].items():
            if value is None and name in objects:
                node["params"][name] = objects[name]
    return graph

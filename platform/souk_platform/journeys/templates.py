"""Journey templates (营销画布模板): ready-made graphs a merchant copies into a draft in one click.

Each template is a valid graph except for its **placeholders**: the coupons, benefit packages, tags, segments,
message channels and templates it needs are left ``null`` for the merchant to choose, and a draft made from it
lists exactly those as what is missing (docs/architecture.md §5.12). Names and descriptions come in both
languages; ``tests/platform/journeys`` fills every placeholder with the shop's own objects and validates each.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from souk_platform.journeys.errors import TemplateNotFound

DAY = 24 * 3600


@dataclasses.dataclass(frozen=True)
class JourneyTemplate:
    key: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    graph: dict[str, Any]

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en

    def description(self, language: str) -> str:
        return self.description_zh if language.startswith("zh") else self.description_en


def _node(
    kind: str, x: int, y: int, params: dict[str, Any] | None = None, label: str | None = None, **nxt: str
) -> dict[str, Any]:
    node: dict[str, Any] = {"type": kind, "params": params or {}, "next": dict(nxt), "position": {"x": x, "y": y}}
    if label:
        node["label"] = label
    return node


def _message(x: int, y: int, label: str, **nxt: str) -> dict[str, Any]:
    return _node("action", x, y, {"action": "send_message", "channel_id": None, "template_id": None}, label, **nxt)


def _wait_days(x: int, y: int, days: int, **nxt: str) -> dict[str, Any]:
    return _node("wait", x, y, {"kind": "duration", "seconds": days * DAY}, **nxt)


def _exit(x: int, y: int) -> dict[str, Any]:
    return _node("exit", x, y)


def _graph(
    nodes: dict[str, dict[str, Any]],
    *,
    goal: dict[str, Any] | None = None,
    reentry: Any = "never",
    exit_rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "entry": "start",
        "nodes": nodes,
        "goal": goal,
        "exit": exit_rules or [],
        "settings": {"reentry": reentry, "quiet_hours": {"start": "22:00", "end": "08:00"}, "frequency_cap": None},
    }


_PAID = {"event": "order.paid", "filter": []}

TEMPLATES: tuple[JourneyTemplate, ...] = (
    JourneyTemplate(
        key="new_customer_7_days",
        name_zh="新客7天培育",
        name_en="New customer: the first 7 days",
        description_zh="新客注册后立即欢迎，次日送新人券，第3天未下单再提醒一次；7天内下单即算达成目标。",
        description_en="Welcome a new customer at once, give a first-order coupon the next day and remind them "
        "on day 3 if they have not ordered; an order within 7 days reaches the goal.",
        graph=_graph(
            {
                "start": _node(
                    "trigger", 0, 0, {"kind": "event", "event": "customer.created", "filter": []}, default="welcome"
                ),
                "welcome": _message(0, 120, "欢迎消息", default="wait1"),
                "wait1": _wait_days(0, 240, 1, default="coupon"),
                "coupon": _node(
                    "action", 0, 360, {"action": "issue_coupon", "coupon_id": None}, "新人券", default="wait2"
                ),
                "wait2": _wait_days(0, 480, 2, default="ordered"),
                "ordered": _node(
                    "condition",
                    0,
                    600,
                    {"condition": {"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 1}]}},
                    yes="done",
                    no="remind",
                ),
                "remind": _message(220, 720, "下单提醒", default="end"),
                "done": _exit(-220, 720),
                "end": _exit(220, 840),
            },
            goal={**_PAID, "within_days": 7},
        ),
    ),
    JourneyTemplate(
        key="cart_abandoned",
        name_zh="加购未下单提醒",
        name_en="Added to cart, not ordered",
        description_zh="顾客加购后2小时内未下单，发送提醒；再过1天仍未下单，送一张优惠券。",
        description_en="Remind a customer who added to the cart and has not ordered within 2 hours; a day later, "
        "still without an order, give them a coupon.",
        graph=_graph(
            {
                "start": _node(
                    "trigger", 0, 0, {"kind": "behaviour", "event": "cart_added", "filter": []}, default="wait"
                ),
                "wait": _node(
                    "wait",
                    0,
                    120,
                    {"kind": "event", "event": "order.paid", "filter": [], "timeout_seconds": 2 * 3600},
                    event="bought",
                    timeout="remind",
                ),
                "bought": _exit(-220, 240),
                "remind": _message(220, 240, "加购提醒", default="wait2"),
                "wait2": _node(
                    "wait",
                    220,
                    360,
                    {"kind": "event", "event": "order.paid", "filter": [], "timeout_seconds": DAY},
                    event="bought2",
                    timeout="coupon",
                ),
                "bought2": _exit(0, 480),
                "coupon": _node(
                    "action", 440, 480, {"action": "issue_coupon", "coupon_id": None}, "挽回券", default="end"
                ),
                "end": _exit(440, 600),
            },
            goal={**_PAID, "within_days": 3},
            reentry={"after_days": 7},
        ),
    ),
    JourneyTemplate(
        key="birthday_care",
        name_zh="会员生日关怀",
        name_en="Member birthday care",
        description_zh="生日前3天上午9点发放生日礼包并送上祝福；每年一次。",
        description_en="Three days before a member's birthday, at 9:00, grant a birthday benefit package and send "
        "greetings; once a year.",
        graph=_graph(
            {
                "start": _node(
                    "trigger",
                    0,
                    0,
                    {"kind": "date", "attribute": "birthday", "days_before": 3, "time": "09:00"},
                    default="gift",
                ),
                "gift": _node(
                    "action", 0, 120, {"action": "grant_benefit", "package_id": None}, "生日礼包", default="greet"
                ),
                "greet": _message(0, 240, "生日祝福", default="end"),
                "end": _exit(0, 360),
            },
            goal={**_PAID, "within_days": 14},
            reentry={"after_days": 300},
        ),
    ),
    JourneyTemplate(
        key="dormant_winback",
        name_zh="沉睡唤醒",
        name_en="Win back dormant customers",
        description_zh="每周圈选180天未购买的顾客：A组推送付费券包优惠，B组直接送券，留出10%对照组不触达，用于衡量提升。",
        description_en="Each week, take customers with no purchase in 180 days: group A is offered a paid coupon "
        "pack, group B gets a coupon, and a 10% holdout gets nothing so the uplift can be measured.",
        graph=_graph(
            {
                "start": _node(
                    "trigger",
                    0,
                    0,
                    {"kind": "schedule", "segment_id": None, "at": "2027-01-04T10:00:00+08:00", "repeat": "weekly"},
                    default="dormant",
                ),
                "dormant": _node(
                    "condition",
                    0,
                    120,
                    {
                        "condition": {
                            "op": "and",
                            "conditions": [{"field": "trade.days_since_last_order", "cmp": "gte", "value": 180}],
                        }
                    },
                    yes="split",
                    no="skip",
                ),
                "skip": _exit(-260, 240),
                "split": _node(
                    "split",
                    0,
                    240,
                    {"variants": [{"key": "a", "weight": 50}, {"key": "b", "weight": 50}], "holdout_percent": 10},
                    a="offer",
                    b="coupon",
                    holdout="control",
                ),
                "offer": _message(-220, 360, "付费券包优惠", default="end_a"),
                "coupon": _node(
                    "action", 0, 360, {"action": "issue_coupon", "coupon_id": None}, "回归券", default="tell"
                ),
                "tell": _message(0, 480, "回归券到账", default="end_b"),
                "control": _exit(220, 360),
                "end_a": _exit(-220, 480),
                "end_b": _exit(0, 600),
            },
            goal={**_PAID, "within_days": 14},
            reentry={"after_days": 90},
        ),
    ),
    JourneyTemplate(
        key="high_value_care",
        name_zh="高价值会员维护",
        name_en="High-value member care",
        description_zh="顾客进入高价值人群时打上标签、发放专属权益，30天后再送一次关怀。",
        description_en="When a customer enters the high-value segment, tag them and grant an exclusive benefit "
        "package; 30 days later, reach out again.",
        graph=_graph(
            {
                "start": _node("trigger", 0, 0, {"kind": "segment_entered", "segment_id": None}, default="tag"),
                "tag": _node("action", 0, 120, {"action": "add_tag", "tag_id": None}, "高价值标签", default="perk"),
                "perk": _node(
                    "action", 0, 240, {"action": "grant_benefit", "package_id": None}, "专属权益", default="wait"
                ),
                "wait": _wait_days(0, 360, 30, default="care"),
                "care": _message(0, 480, "专属关怀", default="end"),
                "end": _exit(0, 600),
            },
            reentry="after_exit",
        ),
    ),
    JourneyTemplate(
        key="post_order_review",
        name_zh="下单后服务引导与评价收集",
        name_en="After the order: service guide and reviews",
        description_zh="付款后发送使用指南；7天后邀请评价，3天内评价的顾客奖励100积分。",
        description_en="After payment, send a guide to the product; 7 days later ask for a review, and award "
        "100 points to customers who post one within 3 days.",
        graph=_graph(
            {
                "start": _node(
                    "trigger", 0, 0, {"kind": "event", "event": "order.paid", "filter": []}, default="guide"
                ),
                "guide": _message(0, 120, "使用指南", default="wait"),
                "wait": _wait_days(0, 240, 7, default="ask"),
                "ask": _message(0, 360, "邀请评价", default="review"),
                "review": _node(
                    "wait",
                    0,
                    480,
                    {"kind": "event", "event": "review_posted", "filter": [], "timeout_seconds": 3 * DAY},
                    event="thanks",
                    timeout="end",
                ),
                "thanks": _node(
                    "action", -220, 600, {"action": "award_points", "points": 100}, "评价奖励", default="done"
                ),
                "done": _exit(-220, 720),
                "end": _exit(220, 600),
            },
            reentry="after_exit",
        ),
    ),
    JourneyTemplate(
        key="first_order_repurchase",
        name_zh="首单复购",
        name_en="From the first order to the second",
        description_zh="顾客完成首单7天后送复购券并提醒；30天内再次下单即达成目标。",
        description_en="Seven days after a customer's first order, give a repeat-purchase coupon and tell them; "
        "a second order within 30 days reaches the goal.",
        graph=_graph(
            {
                "start": _node(
                    "trigger", 0, 0, {"kind": "event", "event": "order.paid", "filter": []}, default="first"
                ),
                "first": _node(
                    "condition",
                    0,
                    120,
                    {"condition": {"op": "and", "conditions": [{"field": "orders_count", "cmp": "eq", "value": 1}]}},
                    yes="wait",
                    no="skip",
                ),
                "skip": _exit(-220, 240),
                "wait": _wait_days(220, 240, 7, default="coupon"),
                "coupon": _node(
                    "action", 220, 360, {"action": "issue_coupon", "coupon_id": None}, "复购券", default="tell"
                ),
                "tell": _message(220, 480, "复购提醒", default="end"),
                "end": _exit(220, 600),
            },
            goal={**_PAID, "within_days": 30},
        ),
    ),
    JourneyTemplate(
        key="points_expiry",
        name_zh="积分到期提醒",
        name_en="Points about to expire",
        description_zh="每月1日圈选积分即将到期的会员，积分不少于100的发送提醒，引导到积分商城兑换。",
        description_en="On the first of each month, take members whose points are about to expire and remind "
        "those holding at least 100 points to spend them.",
        graph=_graph(
            {
                "start": _node(
                    "trigger",
                    0,
                    0,
                    {"kind": "schedule", "segment_id": None, "at": "2027-01-01T10:00:00+08:00", "repeat": "monthly"},
                    default="enough",
                ),
                "enough": _node(
                    "condition",
                    0,
                    120,
                    {"condition": {"op": "and", "conditions": [{"field": "points", "cmp": "gte", "value": 100}]}},
                    yes="remind",
                    no="skip",
                ),
                "remind": _message(-220, 240, "积分到期提醒", default="end"),
                "skip": _exit(220, 240),
                "end": _exit(-220, 360),
            },
            reentry={"after_days": 25},
        ),
    ),
)

_BY_KEY = {t.key: t for t in TEMPLATES}


def get_template(key: str) -> JourneyTemplate:
    template = _BY_KEY.get(key)
    if template is None:
        raise TemplateNotFound(f"No journey template {key}; GET /api/v1/journey-templates lists them.")
    return template


def template_graph(key: str) -> dict[str, Any]:
    """A fresh copy of a template's graph, placeholders still ``null``."""
    return copy.deepcopy(get_template(key).graph)


def template_view(template: JourneyTemplate) -> dict[str, Any]:
    return {
        "key": template.key,
        "name_zh": template.name_zh,
        "name_en": template.name_en,
        "description_zh": template.description_zh,
        "description_en": template.description_en,
        "graph": copy.deepcopy(template.graph),
    }

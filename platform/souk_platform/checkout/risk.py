"""The built-in risk control of ``order.validate`` (docs/architecture.md §5.2): recent-order stats and the rules
that read them. Thresholds are shop settings (0 turns a rule off)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.orders.models import Order
from souk_platform.shops.models import Shop
from souk_platform.shops.services import shop_setting

__all__ = ["RISK_RULES", "RiskRule", "risk_decision", "risk_stats"]


@dataclass(frozen=True, slots=True)
class RiskRule:
    name: str
    max_setting: str
    window_setting: str


RISK_RULES = (
    RiskRule("customer_dense_orders", "risk_customer_orders_max", "risk_customer_orders_window_minutes"),
    RiskRule("ip_many_customers", "risk_ip_customers_max", "risk_ip_customers_window_minutes"),
    RiskRule("customer_many_ips", "risk_customer_ips_max", "risk_customer_ips_window_minutes"),
)


def risk_stats(
    session: DbSession, shop: Shop, *, customer_id: str | None, ip: str | None, now: dt.datetime
) -> dict[str, Any]:
    """Recent-order stats the risk rules read, counting the order being placed."""

    def since(rule: RiskRule) -> dt.datetime:
        return now - dt.timedelta(minutes=int(shop_setting(shop, rule.window_setting)))

    orders = sa.select(sa.func.count()).select_from(Order).where(Order.shop_id == shop.id)
    stats: dict[str, Any] = {"customer_dense_orders": 1, "ip_many_customers": 1 if customer_id else 0}
    stats["customer_many_ips"] = 1 if ip else 0
    if customer_id:
        stats["customer_dense_orders"] += session.scalar(
            orders.where(Order.customer_id == customer_id, Order.created_at > since(RISK_RULES[0]))
        )
    if ip:
        others = session.scalar(
            sa.select(sa.func.count(sa.distinct(Order.customer_id))).where(
                Order.shop_id == shop.id,
                Order.ip == ip,
                Order.customer_id.is_not(None),
                Order.customer_id != (customer_id or ""),
                Order.created_at > since(RISK_RULES[1]),
            )
        )
        stats["ip_many_customers"] += others or 0
    if customer_id and ip:
        other_ips = session.scalar(
            sa.select(sa.func.count(sa.distinct(Order.ip))).where(
                Order.shop_id == shop.id,
                Order.customer_id == customer_id,
                Order.ip.is_not(None),
                Order.ip != ip,
                Order.created_at > since(RISK_RULES[2]),
            )
        )
        stats["customer_many_ips"] += other_ips or 0
    return stats


def risk_decision(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The built-in ``order.validate`` rule: deny when any recent-order stat is over its threshold (0 = off)."""
    for rule in RISK_RULES:
        limit = payload["thresholds"][rule.name]["max"]
        seen = payload["stats"][rule.name]
        if limit and seen > limit:
            minutes = payload["thresholds"][rule.name]["window_minutes"]
            reasons = {
                "customer_dense_orders": f"this customer would place {seen} orders within {minutes} minutes",
                "ip_many_customers": f"this IP would be used by {seen} customers within {minutes} minutes",
                "customer_many_ips": f"this customer would order from {seen} IPs within {minutes} minutes",
            }
            return {"allow": False, "rule": rule.name, "reason": f"{reasons[rule.name]} (limit {limit})."}
    return {"allow": True}

"""The risk dashboard and the platform's cross-shop view (docs/architecture.md §5.13).

Figures come from grouped queries over ``risk_decisions`` and ``risk_reviews``: the number of statements does
not grow with the number of decisions. Days are the shop's local days (the local midnights are turned into UTC
instants in Python and each row gets its day with a ``CASE``, as the sales reports do, §5 reports).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.reports.services import local_midnight, shop_zone
from souk_platform.risk.models import OUTCOMES, RiskDecision, RiskReview
from souk_platform.shops.models import Shop

__all__ = ["MAX_DAYS", "TOP", "risk_across_shops", "risk_dashboard", "shop_today"]

MAX_DAYS = 90
TOP = 10


def shop_today(shop: Shop, now: dt.datetime) -> dt.date:
    """The shop's local date at ``now``."""
    return now.astimezone(shop_zone(shop.timezone or "UTC")).date()


def _outcome_sums() -> list[Any]:
    return [sa.func.sum(sa.case((RiskDecision.outcome == o, 1), else_=0)).label(o) for o in OUTCOMES]


def _rule_counts(rows: Any) -> Counter[str]:
    """``(rule_names, count)`` rows → how often each rule fired (rule_names is ``,a,b,``)."""
    counts: Counter[str] = Counter()
    for names, count in rows:
        for name in filter(None, (names or "").split(",")):
            counts[name] += int(count)
    return counts


def _top_by(session: DbSession, column: Any, where: list[Any]) -> list[dict[str, Any]]:
    """The values of ``column`` most often denied or held for review."""
    deny = sa.func.sum(sa.case((RiskDecision.outcome == "deny", 1), else_=0))
    review = sa.func.sum(sa.case((RiskDecision.outcome == "review", 1), else_=0))
    rows = session.execute(
        sa.select(column, deny, review)
        .where(*where, column.is_not(None), RiskDecision.outcome.in_(("deny", "review")))
        .group_by(column)
        .order_by(sa.desc(deny + review), column)
        .limit(TOP)
    )
    return [{"value": value, "deny": int(d or 0), "review": int(r or 0)} for value, d, r in rows]


def risk_dashboard(session: DbSession, *, shop: Shop, days: int, now: dt.datetime) -> dict[str, Any]:
    """Decisions per local day by outcome (the last ``days`` days, today included, zero-filled), the rules that
    fired most, the IPs and customers most often denied or held, and the open review queue."""
    zone = shop_zone(shop.timezone or "UTC")
    today = now.astimezone(zone).date()
    dates = [today - dt.timedelta(days=days - 1 - i) for i in range(days)]
    edges = [local_midnight(day, zone) for day in dates] + [local_midnight(today + dt.timedelta(days=1), zone)]
    where = [RiskDecision.shop_id == shop.id, RiskDecision.created_at >= edges[0], RiskDecision.created_at < edges[-1]]
    inner = edges[1:-1]
    bucket = (
        sa.case(*[(RiskDecision.created_at < edge, i) for i, edge in enumerate(inner)], else_=len(inner))
        if inner
        else sa.literal(0, sa.Integer)
    ).label("bucket")
    per_day = {
        int(row.bucket): row
        for row in session.execute(sa.select(bucket, *_outcome_sums()).where(*where).group_by(bucket))
    }
    series: list[dict[str, Any]] = []
    totals = dict.fromkeys(OUTCOMES, 0)
    for i, day in enumerate(dates):
        row = per_day.get(i)
        figures = {o: int(getattr(row, o) or 0) if row is not None else 0 for o in OUTCOMES}
        for o in OUTCOMES:
            totals[o] += figures[o]
        series.append({"date": day, **figures, "total": sum(figures.values())})
    rules = _rule_counts(
        session.execute(
            sa.select(RiskDecision.rule_names, sa.func.count())
            .where(*where, RiskDecision.rule_names != "")
            .group_by(RiskDecision.rule_names)
        )
    )
    open_reviews = session.scalar(
        sa.select(sa.func.count())
        .select_from(RiskReview)
        .where(RiskReview.shop_id == shop.id, RiskReview.status == "open")
    )
    return {
        "days": days,
        "timezone": zone.key,
        "from": edges[0],
        "to": edges[-1],
        "totals": {**totals, "total": sum(totals.values())},
        "per_day": series,
        "top_rules": [
            {"rule": name, "count": count}
            for name, count in sorted(rules.items(), key=lambda item: (-item[1], item[0]))[:TOP]
        ],
        "top_ips": [{"ip": row.pop("value"), **row} for row in _top_by(session, RiskDecision.ip, where)],
        "top_customers": [
            {"customer_id": row.pop("value"), **row} for row in _top_by(session, RiskDecision.customer_id, where)
        ],
        "open_reviews": int(open_reviews or 0),
    }


def risk_across_shops(session: DbSession, *, now: dt.datetime, days: int = 7) -> list[dict[str, Any]]:
    """For the platform admin: per shop with decisions in the last ``days`` days or open reviews, its decisions
    by outcome, open reviews and the rule that fired most; busiest first. Three grouped statements."""
    since = now - dt.timedelta(days=days)
    recent = RiskDecision.created_at >= since
    shops: dict[str, dict[str, Any]] = {}

    def entry(shop_id: str) -> dict[str, Any]:
        return shops.setdefault(
            shop_id, {"shop_id": shop_id, **dict.fromkeys(OUTCOMES, 0), "open_reviews": 0, "top_rule": None}
        )

    for row in session.execute(
        sa.select(RiskDecision.shop_id, *_outcome_sums()).where(recent).group_by(RiskDecision.shop_id)
    ):
        entry(row.shop_id).update({o: int(getattr(row, o) or 0) for o in OUTCOMES})
    fired: dict[str, Counter[str]] = {}
    for shop_id, rule_names, count in session.execute(
        sa.select(RiskDecision.shop_id, RiskDecision.rule_names, sa.func.count())
        .where(recent, RiskDecision.rule_names != "")
        .group_by(RiskDecision.shop_id, RiskDecision.rule_names)
    ):
        fired.setdefault(shop_id, Counter()).update(_rule_counts([(rule_names, count)]))
    for shop_id, count in session.execute(
        sa.select(RiskReview.shop_id, sa.func.count()).where(RiskReview.status == "open").group_by(RiskReview.shop_id)
    ):
        entry(shop_id)["open_reviews"] = int(count)
    names = {
        shop_id: name
        for shop_id, name in session.execute(sa.select(Shop.id, Shop.name).where(Shop.id.in_(list(shops) or [""])))
    }
    for shop_id, figures in shops.items():
        figures["shop_name"] = names.get(shop_id, shop_id)
        counts = fired.get(shop_id)
        if counts:
            figures["top_rule"] = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]
        figures["total"] = sum(figures[o] for o in OUTCOMES)
    return sorted(shops.values(), key=lambda s: (-(s["deny"] + s["review"]), -s["total"], s["shop_name"]))

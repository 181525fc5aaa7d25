"""A journey's report (docs/architecture.md §5.12): per node, how many entered, wait there and left the journey
there; per split variant (and the holdout), enrolments, goal conversions, rate and revenue, and each variant's
uplift against the holdout with a 95 % confidence interval and a two-proportion z-test; and what became of the
messages its enrolments were sent (messaging's counts and rates, §5.11).

The statistics are plain ``math``/``statistics``: the difference of the two conversion rates, its unpooled
standard error for the interval, and the pooled standard error for the test's z and two-sided p-value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.journeys.engine.enrol import OPEN_STATUSES
from souk_platform.journeys.engine.enrollments import require_journey
from souk_platform.journeys.models import JourneyEnrollment, JourneyStep, JourneyVersion
from souk_platform.messaging.services import journey_message_counts

CONFIDENCE = 0.95
_Z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)  # 1.959964…


def uplift(converted: int, enrolled: int, holdout_converted: int, holdout_enrolled: int) -> dict[str, Any] | None:
    """A variant against the holdout: the difference of conversion rates with its 95 % interval, the relative
    uplift, z and the two-sided p-value. None when either group is empty."""
    if enrolled == 0 or holdout_enrolled == 0:
        return None
    p1, p0 = converted / enrolled, holdout_converted / holdout_enrolled
    difference = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / enrolled + p0 * (1 - p0) / holdout_enrolled)
    pooled = (converted + holdout_converted) / (enrolled + holdout_enrolled)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / enrolled + 1 / holdout_enrolled))
    z: float | None = None
    p_value: float | None = None  # both groups converted all or none: no evidence either way
    if se_pooled > 0:
        z = difference / se_pooled
        p_value = 2 * (1 - NormalDist().cdf(abs(z)))
    return {
        "difference": difference,
        "relative": difference / p0 if p0 > 0 else None,
        "standard_error": se,
        "ci_low": difference - _Z * se,
        "ci_high": difference + _Z * se,
        "confidence": CONFIDENCE,
        "z": z,
        "p_value": p_value,
        "significant": p_value is not None and p_value < 1 - CONFIDENCE,
    }


def _node_types(session: DbSession, journey_id: str, current_version_id: str | None) -> dict[str, str]:
    """Node id -> type over every version (the current version's word last, so it wins)."""
    versions = session.execute(
        sa.select(JourneyVersion.id, JourneyVersion.graph)
        .where(JourneyVersion.journey_id == journey_id)
        .order_by(JourneyVersion.number)
    ).all()
    types: dict[str, str] = {}
    for _, graph in versions:
        nodes = graph.get("nodes") if isinstance(graph, Mapping) else None
        for node_id, node in (nodes or {}).items():
            if isinstance(node, Mapping):
                types[node_id] = str(node.get("type"))
    return types


def journey_report(session: DbSession, *, shop_id: str, journey_id: str) -> dict[str, Any]:
    """The report of one journey (a few grouped reads, whatever the number of enrolments)."""
    journey = require_journey(session, shop_id=shop_id, journey_id=journey_id)
    types = _node_types(session, journey.id, journey.current_version_id)
    visits = dict(
        session.execute(
            sa.select(JourneyStep.node_id, sa.func.count())
            .where(JourneyStep.journey_id == journey.id)
            .group_by(JourneyStep.node_id)
        ).all()
    )
    nodes: dict[str, dict[str, Any]] = {
        node_id: {"node_id": node_id, "type": kind, "entered": 0, "waiting": 0, "exited": 0}
        for node_id, kind in types.items()
    }
    totals = {"enrolled": 0, "inside": 0, "completed": 0, "exited": 0, "converted": 0, "revenue": 0}
    by_node = session.execute(
        sa.select(
            JourneyEnrollment.current_node,
            JourneyEnrollment.status,
            sa.func.count(),
            sa.func.count(JourneyEnrollment.goal_reached_at),
            sa.func.coalesce(sa.func.sum(JourneyEnrollment.goal_revenue), 0),
        )
        .where(JourneyEnrollment.journey_id == journey.id)
        .group_by(JourneyEnrollment.current_node, JourneyEnrollment.status)
    ).all()
    for node_id, status, count, converted, revenue in by_node:
        entry = nodes.setdefault(
            node_id, {"node_id": node_id, "type": types.get(node_id), "entered": 0, "waiting": 0, "exited": 0}
        )
        totals["enrolled"] += count
        totals["converted"] += converted
        totals["revenue"] += int(revenue)
        if status in OPEN_STATUSES:
            entry["waiting"] += count
            entry["entered"] += count  # inside the node now: its step is written when they leave it
            totals["inside"] += count
        else:
            totals[status] += count
            entry["exited"] += count
            if status == "exited":  # taken out while in the node (goal, exit rule, by hand): no step written
                entry["entered"] += count
    for node_id, count in visits.items():
        entry = nodes.setdefault(
            node_id, {"node_id": node_id, "type": types.get(node_id), "entered": 0, "waiting": 0, "exited": 0}
        )
        entry["entered"] += count
    variants_rows = session.execute(
        sa.select(
            JourneyEnrollment.variant,
            sa.func.count(),
            sa.func.count(JourneyEnrollment.goal_reached_at),
            sa.func.coalesce(sa.func.sum(JourneyEnrollment.goal_revenue), 0),
        )
        .where(JourneyEnrollment.journey_id == journey.id, JourneyEnrollment.variant.is_not(None))
        .group_by(JourneyEnrollment.variant)
        .order_by(JourneyEnrollment.variant)
    ).all()
    groups = {
        str(variant): {"enrolled": count, "converted": converted, "revenue": int(revenue)}
        for variant, count, converted, revenue in variants_rows
    }
    holdout = groups.get("holdout")
    variants = []
    for key, group in groups.items():
        variants.append(
            {
                "variant": key,
                "enrolled": group["enrolled"],
                "converted": group["converted"],
                "conversion_rate": group["converted"] / group["enrolled"] if group["enrolled"] else 0.0,
                "revenue": group["revenue"],
                "revenue_per_enrollment": group["revenue"] / group["enrolled"] if group["enrolled"] else 0.0,
                "uplift": None
                if key == "holdout" or holdout is None
                else uplift(group["converted"], group["enrolled"], holdout["converted"], holdout["enrolled"]),
            }
        )
    return {
        "journey_id": journey.id,
        "status": journey.status,
        "totals": totals,
        "nodes": sorted(nodes.values(), key=lambda n: n["node_id"]),
        "variants": variants,
        "messages": journey_message_counts(session, shop_id=shop_id, journey_id=journey.id),
    }

"""Periodic triggers and exit rules (docs/architecture.md §5.12): entering a segment, a schedule over a
segment, a date attribute, and leaving a segment. Each is a timer safe to run twice and late: enrolment is
one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` over the compiled segment condition, limited per call, and
the re-entry policy and the unique entry key keep anyone from entering twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from souk_platform.customers.models import Customer
from souk_platform.db import DbSession, dialect_insert
from souk_platform.journeys.engine import reading
from souk_platform.journeys.engine.advance import GraphCache
from souk_platform.journeys.engine.enrol import OPEN_STATUSES, enrol_customers, finish
from souk_platform.journeys.engine.models import JourneyTriggerRun
from souk_platform.journeys.models import Journey, JourneyEnrollment
from souk_platform.shops.models import Shop
from souk_platform.tags.models import Segment

PERIODIC_KINDS = ("segment_entered", "schedule", "date")


def _segment_members(
    session: DbSession, shop_id: str, segment_id: Any, now: dt.datetime
) -> sa.ColumnElement[bool] | None:
    from souk_platform.audience.services import compile_condition

    segment = session.scalar(sa.select(Segment).where(Segment.shop_id == shop_id, Segment.id == str(segment_id)))
    if segment is None:
        return None
    return compile_condition(segment.condition, shop_id=shop_id, now=now)


def _not_entered_since(journey_id: str, since: dt.datetime) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(
        JourneyEnrollment.journey_id == journey_id,
        JourneyEnrollment.customer_id == Customer.id,
        JourneyEnrollment.entered_at >= since,
    )


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def schedule_occurrence(trigger: Mapping[str, Any], *, now: dt.datetime) -> dt.datetime | None:
    """The latest time at or before ``now`` the schedule fires; None before its first."""
    at = reading.parse_time(trigger.get("at"))
    if at is None or at > now:
        return None
    repeat = trigger.get("repeat")
    if repeat in ("daily", "weekly"):
        step = dt.timedelta(days=1 if repeat == "daily" else 7)
        return at + step * ((now - at) // step)
    if repeat == "monthly":
        months = (now.year - at.year) * 12 + now.month - at.month
        occurrence = _add_months(at, months)
        return occurrence if occurrence <= now else _add_months(at, months - 1)
    return at


def _fired(session: DbSession, journey: Journey, occurrence: str) -> bool:
    return session.get(JourneyTriggerRun, (journey.id, occurrence)) is not None


def _mark_fired(session: DbSession, journey: Journey, occurrence: str, enrolled: int) -> None:
    session.execute(
        dialect_insert(session)(JourneyTriggerRun)
        .values(journey_id=journey.id, occurrence=occurrence, shop_id=journey.shop_id, enrolled=enrolled)
        .on_conflict_do_nothing(index_elements=["journey_id", "occurrence"])
    )


def _date_match(attribute: str, target: dt.date) -> sa.ColumnElement[bool]:
    column: Any = Customer.birthday if attribute == "birthday" else Customer.created_at
    month, day = sa.extract("month", column), sa.extract("day", column)
    when = sa.and_(column.is_not(None), month == target.month, day == target.day)
    if target.month == 2 and target.day == 28 and not calendar.isleap(target.year):
        when = sa.and_(column.is_not(None), month == 2, day.in_([28, 29]))  # 29 February on the 28th
    if attribute != "birthday":  # a membership anniversary: at least a year old
        when = sa.and_(when, sa.extract("year", column) < target.year)
    return when


def _run_journey(
    session: DbSession, journey: Journey, graph: reading.Graph, trigger: Mapping[str, Any], now: dt.datetime, limit: int
) -> int:
    kind = trigger.get("kind")
    customers = sa.select(Customer.id).where(Customer.shop_id == journey.shop_id).order_by(Customer.id)
    if kind == "segment_entered":
        members = _segment_members(session, journey.shop_id, trigger.get("segment_id"), now)
        if members is None:
            return 0
        made = enrol_customers(
            session, journey=journey, graph=graph, customers=customers.where(members), now=now, limit=limit
        )
        return len(made)
    if kind == "schedule":
        moment = schedule_occurrence(trigger, now=now)
        if moment is None or (journey.activated_at is not None and moment < journey.activated_at):
            return 0
        occurrence = f"schedule:{moment.isoformat()}"
        if _fired(session, journey, occurrence):
            return 0
        members = _segment_members(session, journey.shop_id, trigger.get("segment_id"), now)
        if members is None:
            return 0
        made = enrol_customers(
            session,
            journey=journey,
            graph=graph,
            customers=customers.where(members, _not_entered_since(journey.id, moment)),
            now=now,
            limit=limit,
        )
        if len(made) < limit:
            _mark_fired(session, journey, occurrence, len(made))
        return len(made)
    if kind == "date":
        zone = ZoneInfo(session.scalar(sa.select(Shop.timezone).where(Shop.id == journey.shop_id)) or "Asia/Shanghai")
        local = now.astimezone(zone)
        hour, _, minute = str(trigger.get("time") or "09:00").partition(":")
        start = local.replace(hour=int(hour), minute=int(minute or 0), second=0, microsecond=0)
        if local < start:
            return 0
        occurrence = f"date:{local.date().isoformat()}"
        if _fired(session, journey, occurrence):
            return 0
        target = local.date() + dt.timedelta(days=int(trigger.get("days_before") or 0))
        made = enrol_customers(
            session,
            journey=journey,
            graph=graph,
            customers=customers.where(
                _date_match(str(trigger.get("attribute") or "birthday"), target),
                _not_entered_since(journey.id, start.astimezone(dt.UTC)),
            ),
            now=now,
            limit=limit,
        )
        if len(made) < limit:
            _mark_fired(session, journey, occurrence, len(made))
        return len(made)
    return 0


def run_periodic_triggers(session: DbSession, *, now: dt.datetime, limit: int = 1000) -> int:
    """One pass: every active journey with a periodic trigger enrols up to ``limit`` due customers; returns
    how many were enrolled (call again while it is not 0). The caller commits."""
    journeys = list(
        session.scalars(
            sa.select(Journey)
            .where(Journey.status == "active", Journey.current_version_id.is_not(None))
            .order_by(Journey.id)
        )
    )
    graphs = GraphCache(session)
    graphs.load(str(j.current_version_id) for j in journeys)
    enrolled = 0
    for journey in journeys:
        graph = graphs[str(journey.current_version_id)]
        trigger = reading.entry_trigger(graph)
        if trigger.get("kind") in PERIODIC_KINDS:
            enrolled += _run_journey(session, journey, graph, trigger, now, limit)
    return enrolled


def apply_segment_exits(session: DbSession, *, now: dt.datetime, limit: int = 500) -> int:
    """Exit rules ``{kind: segment_left}``: open enrolments whose customer is no longer in the segment leave
    (reason ``exit_rule``). Returns how many left; the caller commits."""
    journeys = list(session.scalars(sa.select(Journey).where(Journey.status.in_(("active", "paused")))))
    graphs = GraphCache(session)
    left = 0
    for journey in journeys:
        versions = list(
            session.scalars(
                sa.select(JourneyEnrollment.version_id)
                .where(JourneyEnrollment.journey_id == journey.id, JourneyEnrollment.status.in_(OPEN_STATUSES))
                .distinct()
            )
        )
        for version_id in versions:
            for rule in reading.exit_rules(graphs[version_id]):
                if rule.get("kind") != "segment_left":
                    continue
                members = _segment_members(session, journey.shop_id, rule.get("segment_id"), now)
                if members is None:
                    continue
                outside = ~sa.exists().where(
                    Customer.id == JourneyEnrollment.customer_id, Customer.shop_id == journey.shop_id, members
                )
                for enrollment in session.scalars(
                    sa.select(JourneyEnrollment)
                    .where(
                        JourneyEnrollment.journey_id == journey.id,
                        JourneyEnrollment.version_id == version_id,
                        JourneyEnrollment.status.in_(OPEN_STATUSES),
                        outside,
                    )
                    .order_by(JourneyEnrollment.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                ):
                    finish(session, enrollment, reason="exit_rule", now=now)
                    left += 1
    return left

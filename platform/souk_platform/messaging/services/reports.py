"""Message engagement reports (docs/architecture.md §5.11): what became of the messages a shop made in a period,
per channel, per template and per journey.

Each message is counted once, by the status it has now, in the period it was made (``created_at``); the
counts per status add up to ``total``. Rates are fractions (4 decimals), ``null`` when nothing is under them:

- ``delivery_rate`` = (delivered + clicked) / handed on, where *handed on* = sent + delivered + clicked + failed
  (the messages that left Souk: not suppressed, and not still scheduled or queued);
- ``click_rate`` = clicked / (delivered + clicked);
- ``failure_rate`` = failed / handed on;
- ``suppression_rate`` = suppressed / total.

Three grouped statements whatever the number of messages, channels, templates or journeys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from souk_platform.db import DbSession
from souk_platform.journeys.models import Journey, JourneyEnrollment
from souk_platform.messaging.errors import InvalidReportPeriod
from souk_platform.messaging.models import MESSAGE_STATUSES, Message, MessageChannel, MessageTemplate
from souk_platform.reports.services import local_midnight, shop_zone
from souk_platform.shops.models import Shop

MAX_REPORT_DAYS = 366
COUNTS = (*MESSAGE_STATUSES, "read", "total")
RATES = ("delivery_rate", "click_rate", "failure_rate", "suppression_rate")


def report_period(
    shop: Shop,
    *,
    now: dt.datetime,
    days: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` in UTC: the last ``days`` shop-local days, today included (default 7), or the instants
    given (both, at most a year apart). Refusals name the field."""
    if start is not None or end is not None:
        if days is not None:
            raise InvalidReportPeriod("Send either days or from and to.", errors={"days": ["Not with from/to."]})
        if start is None or end is None:
            missing = "from" if start is None else "to"
            raise InvalidReportPeriod("Send both from and to.", errors={missing: ["Required with the other."]})
        if end <= start:
            raise InvalidReportPeriod("The period ends before it starts.", errors={"to": ["After from."]})
        if end - start > dt.timedelta(days=MAX_REPORT_DAYS):
            raise InvalidReportPeriod(
                "The period is too long.", errors={"to": [f"At most {MAX_REPORT_DAYS} days after from."]}
            )
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    days = 7 if days is None else days
    if not 1 <= days <= MAX_REPORT_DAYS:
        raise InvalidReportPeriod("The period is too long.", errors={"days": [f"From 1 to {MAX_REPORT_DAYS}."]})
    zone = shop_zone(shop.timezone or "UTC")
    today = now.astimezone(zone).date()
    return local_midnight(today - dt.timedelta(days=days - 1), zone), local_midnight(today + dt.timedelta(days=1), zone)


def _status_sums() -> list[sa.ColumnElement[Any]]:
    counts = [sa.func.count(sa.case((Message.status == s, 1))).label(s) for s in MESSAGE_STATUSES]
    read = sa.func.count(Message.read_at).label("read")
    return [*counts, read, sa.func.count().label("total")]


def _figures(values: Mapping[Any, Any]) -> dict[str, Any]:
    counts = {s: int(values[s] or 0) for s in COUNTS}
    reached = counts["delivered"] + counts["clicked"]
    handed_on = counts["sent"] + reached + counts["failed"]

    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        **counts,
        "delivery_rate": rate(reached, handed_on),
        "click_rate": rate(counts["clicked"], reached),
        "failure_rate": rate(counts["failed"], handed_on),
        "suppression_rate": rate(counts["suppressed"], counts["total"]),
    }


def message_report(session: DbSession, *, shop_id: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The shop's messages made in ``[start, end)``: totals, and per channel, template and journey (each list
    busiest first). A message written without a template is under ``template_id: null``."""
    made = [Message.shop_id == shop_id, Message.created_at >= start, Message.created_at < end]
    per_channel = session.execute(
        sa.select(MessageChannel.id, MessageChannel.name, MessageChannel.kind, MessageChannel.key, *_status_sums())
        .join(MessageChannel, MessageChannel.id == Message.channel_id)
        .where(*made)
        .group_by(MessageChannel.id, MessageChannel.name, MessageChannel.kind, MessageChannel.key)
    ).all()
    per_template = session.execute(
        sa.select(Message.template_id, MessageTemplate.name, *_status_sums())
        .outerjoin(MessageTemplate, MessageTemplate.id == Message.template_id)
        .where(*made)
        .group_by(Message.template_id, MessageTemplate.name)
    ).all()
    # A journey's message names its enrolment (source_id); the enrolment names the journey, in the same shop.
    per_journey = session.execute(
        sa.select(Journey.id, Journey.name, *_status_sums())
        .join(
            JourneyEnrollment,
            sa.and_(JourneyEnrollment.id == Message.source_id, JourneyEnrollment.shop_id == Message.shop_id),
        )
        .join(Journey, Journey.id == JourneyEnrollment.journey_id)
        .where(*made, Message.source == "journey")
        .group_by(Journey.id, Journey.name)
    ).all()
    totals = dict.fromkeys(COUNTS, 0)
    for row in per_channel:  # every message has a channel: the channels' counts add up to the shop's
        for key in COUNTS:
            totals[key] += int(row._mapping[key] or 0)

    def busiest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda row: (-row["total"], str(row.get("name") or "")))

    return {
        "from": start,
        "to": end,
        "totals": _figures(totals),
        "channels": busiest(
            [
                {"channel_id": r.id, "name": r.name, "kind": r.kind, "key": r.key, **_figures(r._mapping)}
                for r in per_channel
            ]
        ),
        "templates": busiest(
            [{"template_id": r.template_id, "name": r.name, **_figures(r._mapping)} for r in per_template]
        ),
        "journeys": busiest([{"journey_id": r.id, "name": r.name, **_figures(r._mapping)} for r in per_journey]),
    }


def journey_message_counts(session: DbSession, *, shop_id: str, journey_id: str) -> dict[str, Any]:
    """The figures of every message one journey's enrolments were sent, in one statement (its report page)."""
    row = session.execute(
        sa.select(*_status_sums())
        .select_from(Message)
        .join(
            JourneyEnrollment,
            sa.and_(JourneyEnrollment.id == Message.source_id, JourneyEnrollment.shop_id == Message.shop_id),
        )
        .where(
            Message.shop_id == shop_id,
            Message.source == "journey",
            JourneyEnrollment.journey_id == journey_id,
        )
    ).one()
    return _figures(row._mapping)

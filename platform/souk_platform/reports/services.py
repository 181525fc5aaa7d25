"""Sales reports as aggregate queries over orders, order lines, carts and customers.

Every report covers whole local days ``[start, end]`` in the shop's timezone. How rows get their local
day portably (PostgreSQL and SQLite have no common date/timezone functions): the local midnights that
start each bucket are turned into UTC instants in Python (``zoneinfo`` knows DST and offsets such as
+05:45), and SQL assigns each row its bucket with a ``CASE`` over those instants, then aggregates with
``GROUP BY``. Only one row per bucket (or per ranked item) leaves the database.

What counts as a sale (the orders contract): an order whose status is paid, fulfilled or completed,
at its ``paid_at``. Revenue = ``total + stored_value_used - refunded_total`` (what the buyer paid in
cash and stored value, net of refunds so far), in integer fen of the shop's currency.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import sqlalchemy as sa

from souk_platform.checkout.models import Cart
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.members.services import LEVELS, get_level_config
from souk_platform.orders.models import SOLD_STATUSES, Order, OrderLine
from souk_platform.reports.errors import InvalidReportPeriod

MAX_DAYS = 366
EARLIEST_DAY = dt.date(1970, 1, 1)
LATEST_DAY = dt.date(2999, 12, 31)
GRANULARITIES = ("day", "week", "month")
PRODUCT_RANKINGS = ("revenue", "quantity")
PERIOD_METRICS = ("revenue", "orders", "customers")

Granularity = Literal["day", "week", "month"]

_RATE_PLACES = Decimal("0.0001")


# --- periods and buckets -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """Local calendar days ``start``..``end``, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> ReportPeriod:
        """The period of the same length just before this one (环比)."""
        return ReportPeriod(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def year_earlier(self) -> ReportPeriod:
        """The same calendar days one year earlier (同比); 29 February maps to 28 February."""
        return ReportPeriod(_year_before(self.start), _year_before(self.end))


def period_problems(start: dt.date, end: dt.date) -> dict[str, list[str]]:
    """Why ``start``..``end`` is not a valid report period, per field (empty when it is)."""
    problems: dict[str, list[str]] = {}
    for field, day in (("from", start), ("to", end)):
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            problems[field] = [f"Must be between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}."]
    if problems:
        return problems
    if start > end:
        return {"to": ["Must be on or after 'from'."]}
    if (end - start).days + 1 > MAX_DAYS:
        return {"to": [f"A report covers at most {MAX_DAYS} days; this range has {(end - start).days + 1}."]}
    return {}


def report_period(start: dt.date, end: dt.date) -> ReportPeriod:
    """A validated period; raises ``InvalidReportPeriod`` (422) with field errors."""
    problems = period_problems(start, end)
    if problems:
        raise InvalidReportPeriod("The report period is not valid.", errors=problems)
    return ReportPeriod(start, end)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: dt.date
    end: dt.date
    label: str


def buckets_of(period: ReportPeriod, granularity: Granularity) -> list[Bucket]:
    """Consecutive buckets covering the period; the first and last are clipped to it.

    Weeks are ISO weeks (Monday to Sunday, labelled ``2026-W10``); months are calendar months.
    """
    buckets: list[Bucket] = []
    day = period.start
    while day <= period.end:
        if granularity == "day":
            last, label = day, day.isoformat()
        elif granularity == "week":
            year, week, weekday = day.isocalendar()
            last, label = day + dt.timedelta(days=7 - weekday), f"{year}-W{week:02d}"
        else:
            next_month = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
            last, label = next_month - dt.timedelta(days=1), f"{day.year}-{day.month:02d}"
        last = min(last, period.end)
        buckets.append(Bucket(day, last, label))
        day = last + dt.timedelta(days=1)
    return buckets


def shop_zone(timezone: str) -> zoneinfo.ZoneInfo:
    """The shop's timezone; UTC when the name is unknown (reports never fail on it)."""
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC instant at which local ``day`` starts in ``zone``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def _edges(buckets: Sequence[Bucket], zone: zoneinfo.ZoneInfo) -> list[dt.datetime]:
    """``len(buckets) + 1`` UTC instants: bucket ``i`` is ``[edges[i], edges[i + 1])``."""
    days = [b.start for b in buckets] + [buckets[-1].end + dt.timedelta(days=1)]
    return [local_midnight(day, zone) for day in days]


def _bucket_index(column: Any, edges: Sequence[dt.datetime]) -> Any:
    """SQL: the index of the bucket ``column`` falls in (rows are already filtered to the whole range)."""
    inner = edges[1:-1]
    if not inner:
        return sa.literal(0, sa.Integer)
    return sa.case(*[(column < edge, i) for i, edge in enumerate(inner)], else_=len(inner))


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


# --- arithmetic ------------------------------------------------------------------------------------------


def ratio(numerator: int, denominator: int) -> str | None:
    """``numerator / denominator`` as a decimal string with 4 places (half up); None when dividing by 0."""
    if denominator == 0:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP))


def _average(amount: int, count: int) -> int:
    if count == 0:
        return 0
    return int((Decimal(amount) / Decimal(count)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _sales_filter(period_edges: Sequence[dt.datetime], shop_id: str) -> list[Any]:
    return [
        Order.shop_id == shop_id,
        Order.status.in_(SOLD_STATUSES),
        Order.paid_at >= period_edges[0],
        Order.paid_at < period_edges[-1],
    ]


def _period_edges(period: ReportPeriod, zone: zoneinfo.ZoneInfo) -> list[dt.datetime]:
    return [local_midnight(period.start, zone), local_midnight(period.end + dt.timedelta(days=1), zone)]


# --- sales trend -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SalesFigures:
    """Sales in fen: ``gross_sales`` paid, ``refunds`` refunded on those orders, ``revenue`` the difference."""

    orders_paid: int
    gross_sales: int
    refunds: int
    revenue: int
    average_order_value: int

    @classmethod
    def of(cls, orders_paid: int, gross_sales: int, refunds: int) -> SalesFigures:
        revenue = gross_sales - refunds
        return cls(orders_paid, gross_sales, refunds, revenue, _average(revenue, orders_paid))


@dataclass(frozen=True, slots=True)
class TrendBucket:
    start: dt.date
    end: dt.date
    label: str
    figures: SalesFigures


@dataclass(frozen=True, slots=True)
class SalesTrend:
    period: ReportPeriod
    granularity: str
    timezone: str
    buckets: list[TrendBucket]
    totals: SalesFigures


def sales_trend(
    session: DbSession, *, shop_id: str, period: ReportPeriod, timezone: str, granularity: Granularity
) -> SalesTrend:
    """Orders paid, gross sales, refunds, revenue and average order value per local bucket, zero-filled.

    A sale belongs to the bucket of its ``paid_at``; its refunds (so far) are counted with it, so each
    bucket's revenue is what that bucket's sales finally brought in.
    """
    zone = shop_zone(timezone)
    buckets = buckets_of(period, granularity)
    edges = _edges(buckets, zone)
    rows = (
        sa.select(
            _bucket_index(Order.paid_at, edges).label("bucket"),
            (Order.total + Order.stored_value_used).label("gross"),
            Order.refunded_total.label("refunded"),
        )
        .where(*_sales_filter(edges, shop_id))
        .subquery()
    )
    # GROUP BY the subquery's column: PostgreSQL would not match a CASE with bound parameters written twice.
    stmt = sa.select(rows.c.bucket, sa.func.count(), sa.func.sum(rows.c.gross), sa.func.sum(rows.c.refunded)).group_by(
        rows.c.bucket
    )
    found = {
        int(index): (int(count), int(gross), int(refunded)) for index, count, gross, refunded in session.execute(stmt)
    }
    figures = [SalesFigures.of(*found.get(i, (0, 0, 0))) for i in range(len(buckets))]
    totals = SalesFigures.of(
        sum(f.orders_paid for f in figures), sum(f.gross_sales for f in figures), sum(f.refunds for f in figures)
    )
    return SalesTrend(
        period=period,
        granularity=granularity,
        timezone=zone.key,
        buckets=[TrendBucket(b.start, b.end, b.label, f) for b, f in zip(buckets, figures, strict=True)],
        totals=totals,
    )


# --- funnel ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Funnel:
    period: ReportPeriod
    timezone: str
    carts_created: int
    orders_created: int
    orders_paid: int
    cart_to_order_rate: str | None
    order_to_paid_rate: str | None
    cart_to_paid_rate: str | None


def funnel(session: DbSession, *, shop_id: str, period: ReportPeriod, timezone: str) -> Funnel:
    """Carts created → orders created → orders paid in the period, with conversion rates (4-place decimals).

    Carts and orders count by their ``created_at``; "orders paid" are the orders created in the period that
    were ever paid (a later refund or cancellation does not undo the conversion). Rates are None when the
    stage before is empty; cart → order can exceed 1 when orders were placed without a cart.
    """
    zone = shop_zone(timezone)
    start, end = _period_edges(period, zone)
    carts = session.scalar(
        sa.select(sa.func.count())
        .select_from(Cart)
        .where(Cart.shop_id == shop_id, Cart.created_at >= start, Cart.created_at < end)
    )
    created, paid = session.execute(
        sa.select(sa.func.count(), sa.func.count(Order.paid_at)).where(
            Order.shop_id == shop_id, Order.created_at >= start, Order.created_at < end
        )
    ).one()
    carts, created, paid = int(carts or 0), int(created), int(paid)
    return Funnel(
        period=period,
        timezone=zone.key,
        carts_created=carts,
        orders_created=created,
        orders_paid=paid,
        cart_to_order_rate=ratio(created, carts),
        order_to_paid_rate=ratio(paid, created),
        cart_to_paid_rate=ratio(paid, carts),
    )


# --- rankings --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductRank:
    rank: int
    product_id: str
    name: str
    quantity: int
    revenue: int
    orders: int


@dataclass(frozen=True, slots=True)
class CustomerRank:
    rank: int
    customer_id: str
    name: str | None
    orders: int
    revenue: int


@dataclass(frozen=True, slots=True)
class Ranking:
    period: ReportPeriod
    timezone: str
    by: str
    items: list[Any]


def _ranks(values: Sequence[int]) -> list[int]:
    """Competition ranking of values already sorted best first: ties share a rank (1, 2, 2, 4)."""
    ranks: list[int] = []
    for position, value in enumerate(values, start=1):
        ranks.append(ranks[-1] if ranks and values[position - 2] == value else position)
    return ranks


def top_products(
    session: DbSession,
    *,
    shop_id: str,
    period: ReportPeriod,
    timezone: str,
    by: Literal["revenue", "quantity"],
    limit: int,
) -> Ranking:
    """The best-selling products of the period, by revenue or quantity, net of refunded units.

    A line's revenue is its price after its allocated discount (``unit_price × quantity − discount``),
    scaled to the units not refunded; fees and points are order-level and not part of product revenue.
    ``name`` is the line title of the product's most recent sale in the period.
    """
    zone = shop_zone(timezone)
    edges = _period_edges(period, zone)
    kept = OrderLine.quantity - OrderLine.refunded_quantity
    # Plain "/" of integers truncates on both backends; SQLAlchemy's "//" would wrap it in FLOOR(), a float on PG.
    line_revenue = ((OrderLine.unit_price * OrderLine.quantity - OrderLine.discount) * kept).op("/")(
        sa.func.nullif(OrderLine.quantity, 0)
    )
    quantity = sa.func.sum(kept).label("quantity")
    revenue = sa.func.coalesce(sa.func.sum(line_revenue), 0).label("revenue")
    first, second = (revenue, quantity) if by == "revenue" else (quantity, revenue)
    stmt = (
        sa.select(
            OrderLine.product_id,
            quantity,
            revenue,
            sa.func.count(sa.distinct(OrderLine.order_id)).label("orders"),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.shop_id == shop_id, *_sales_filter(edges, shop_id))
        .group_by(OrderLine.product_id)
        .having(sa.func.sum(kept) > 0)
        .order_by(first.desc(), second.desc(), OrderLine.product_id)
        .limit(limit)
    )
    rows = session.execute(stmt).all()
    titles = _latest_titles(session, shop_id=shop_id, edges=edges, product_ids=[row.product_id for row in rows])
    metric: Callable[[Any], int] = (
        (lambda row: int(row.revenue)) if by == "revenue" else (lambda row: int(row.quantity))
    )
    ranks = _ranks([metric(row) for row in rows])
    items = [
        ProductRank(
            rank=rank,
            product_id=row.product_id,
            name=titles.get(row.product_id, ""),
            quantity=int(row.quantity),
            revenue=int(row.revenue),
            orders=int(row.orders),
        )
        for rank, row in zip(ranks, rows, strict=True)
    ]
    return Ranking(period=period, timezone=zone.key, by=by, items=items)


def _latest_titles(
    session: DbSession, *, shop_id: str, edges: Sequence[dt.datetime], product_ids: list[str]
) -> dict[str, str]:
    """Each product's line title at its latest sale in the range (titles are snapshots and may change)."""
    if not product_ids:
        return {}
    newest_first = sa.func.row_number().over(
        partition_by=OrderLine.product_id, order_by=(Order.paid_at.desc(), OrderLine.id.desc())
    )
    lines = (
        sa.select(OrderLine.product_id, OrderLine.title, newest_first.label("n"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.shop_id == shop_id, OrderLine.product_id.in_(product_ids), *_sales_filter(edges, shop_id))
        .subquery()
    )
    return dict(session.execute(sa.select(lines.c.product_id, lines.c.title).where(lines.c.n == 1)).all())


def top_customers(session: DbSession, *, shop_id: str, period: ReportPeriod, timezone: str, limit: int) -> Ranking:
    """The customers who brought the most revenue in the period (guests excluded), with their order counts."""
    zone = shop_zone(timezone)
    edges = _period_edges(period, zone)
    revenue = sa.func.sum(Order.total + Order.stored_value_used - Order.refunded_total).label("revenue")
    orders = sa.func.count(Order.id).label("orders")
    stmt = (
        sa.select(Order.customer_id, orders, revenue)
        .where(Order.customer_id.is_not(None), *_sales_filter(edges, shop_id))
        .group_by(Order.customer_id)
        .having(sa.func.sum(Order.total + Order.stored_value_used - Order.refunded_total) > 0)
        .order_by(revenue.desc(), orders.desc(), Order.customer_id)
        .limit(limit)
    )
    rows = session.execute(stmt).all()
    names = dict(
        session.execute(
            sa.select(Customer.id, Customer.name).where(
                Customer.shop_id == shop_id, Customer.id.in_([row.customer_id for row in rows])
            )
        ).all()
    )
    ranks = _ranks([int(row.revenue) for row in rows])
    items = [
        CustomerRank(
            rank=rank,
            customer_id=row.customer_id,
            name=names.get(row.customer_id),
            orders=int(row.orders),
            revenue=int(row.revenue),
        )
        for rank, row in zip(ranks, rows, strict=True)
    ]
    return Ranking(period=period, timezone=zone.key, by="revenue", items=items)


# --- period over period ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodValue:
    period: ReportPeriod
    value: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """The current value against a base period: absolute change, and relative change unless the base is 0."""

    period: ReportPeriod
    value: int
    change: int
    relative_change: str | None


@dataclass(frozen=True, slots=True)
class PeriodOverPeriod:
    metric: str
    period: ReportPeriod
    timezone: str
    current: PeriodValue
    previous_period: Comparison
    year_earlier: Comparison


def metric_value(
    session: DbSession,
    *,
    shop_id: str,
    period: ReportPeriod,
    timezone: str,
    metric: Literal["revenue", "orders", "customers"],
) -> int:
    """One figure for the period: revenue (fen), orders paid, or distinct paying customers (guests excluded)."""
    edges = _period_edges(period, shop_zone(timezone))
    column: Any
    if metric == "revenue":
        column = sa.func.coalesce(sa.func.sum(Order.total + Order.stored_value_used - Order.refunded_total), 0)
    elif metric == "orders":
        column = sa.func.count(Order.id)
    else:
        column = sa.func.count(sa.distinct(Order.customer_id))
    return int(session.scalar(sa.select(column).where(*_sales_filter(edges, shop_id))) or 0)


def period_over_period(
    session: DbSession,
    *,
    shop_id: str,
    period: ReportPeriod,
    timezone: str,
    metric: Literal["revenue", "orders", "customers"],
) -> PeriodOverPeriod:
    """The metric for the period, against the previous period of the same length (环比) and the same days
    one year earlier (同比)."""

    def value_of(p: ReportPeriod) -> int:
        return metric_value(session, shop_id=shop_id, period=p, timezone=timezone, metric=metric)

    def compare(base_period: ReportPeriod) -> Comparison:
        base = value_of(base_period)
        return Comparison(base_period, base, current - base, ratio(current - base, base))

    current = value_of(period)
    return PeriodOverPeriod(
        metric=metric,
        period=period,
        timezone=shop_zone(timezone).key,
        current=PeriodValue(period, current),
        previous_period=compare(period.previous()),
        year_earlier=compare(period.year_earlier()),
    )


# --- the merchant dashboard (docs/architecture.md §14) ---------------------------------------------------------

DASHBOARD_DAYS = 7  # "the last 7 days": today and the six days before it


@dataclass(frozen=True, slots=True)
class LevelShare:
    """How many of the shop's customers are at one member level (``name`` is the shop's name for it)."""

    level: int
    name: str
    customers: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    """A shop's landing figures: today and the last 7 local days (money in fen of the shop's currency)."""

    today: ReportPeriod
    week: ReportPeriod
    timezone: str
    today_sales: SalesFigures
    week_sales: SalesFigures
    week_trend: list[TrendBucket]  # one bucket per day, oldest first
    new_members_today: int
    new_members_week: int
    customers: int
    levels: list[LevelShare]  # V1..V5, zero-filled


def local_today(now: dt.datetime, timezone: str) -> dt.date:
    """The calendar day ``now`` falls on in the shop's timezone."""
    return now.astimezone(shop_zone(timezone)).date()


def new_members(session: DbSession, *, shop_id: str, period: ReportPeriod, timezone: str) -> int:
    """Customers who joined the shop (``created_at``) on the period's local days."""
    start, end = _period_edges(period, shop_zone(timezone))
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Customer)
            .where(Customer.shop_id == shop_id, Customer.created_at >= start, Customer.created_at < end)
        )
        or 0
    )


def level_distribution(session: DbSession, *, shop_id: str) -> list[LevelShare]:
    """Customers per member level 1–5 (every level listed), with the shop's level names."""
    counts = dict(
        session.execute(
            sa.select(Customer.level, sa.func.count()).where(Customer.shop_id == shop_id).group_by(Customer.level)
        ).all()
    )
    names = {int(entry["level"]): str(entry["name"]) for entry in get_level_config(session, shop_id=shop_id)["levels"]}
    return [LevelShare(level, names.get(level, f"V{level}"), int(counts.get(level, 0))) for level in LEVELS]


def dashboard(session: DbSession, *, shop_id: str, timezone: str, now: dt.datetime) -> Dashboard:
    """Sales, orders and new members today and over the last 7 days, and the level distribution now.

    "Today" is the shop's local day at ``now``; sales count as in ``sales_trend`` (paid orders at their
    ``paid_at``, net of their refunds so far).
    """
    today = local_today(now, timezone)
    day = ReportPeriod(today, today)
    week = ReportPeriod(today - dt.timedelta(days=DASHBOARD_DAYS - 1), today)
    trend = sales_trend(session, shop_id=shop_id, period=week, timezone=timezone, granularity="day")
    return Dashboard(
        today=day,
        week=week,
        timezone=trend.timezone,
        today_sales=trend.buckets[-1].figures,
        week_sales=trend.totals,
        week_trend=trend.buckets,
        new_members_today=new_members(session, shop_id=shop_id, period=day, timezone=timezone),
        new_members_week=new_members(session, shop_id=shop_id, period=week, timezone=timezone),
        customers=int(
            session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.shop_id == shop_id)) or 0
        ),
        levels=level_distribution(session, shop_id=shop_id),
    )

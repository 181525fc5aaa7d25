"""The one compiler of audience conditions to SQL (docs/architecture.md §5.8).

A condition is a group ``{"op": "and"|"or", "conditions": [...]}`` of groups and leaves
``{"field", "params", "cmp", "value"}`` (``schemas.load_condition_group`` validates it). Every field of
the registry (``fields/``) compiles to one of two *measures*:

- a **row** measure: a column expression over ``customers`` (a profile column, or a correlated
  subquery such as the points balance), compared in the where clause;
- an **aggregate** measure: an aggregate over a *source* (a subquery of fact rows carrying
  ``customer_id``: the shop's paid orders in a window, their lines in a category, events of a type…).
  A leaf becomes ``customers.id IN (SELECT customer_id FROM source GROUP BY customer_id HAVING …)``.

Sibling leaves of one group whose aggregates read the *same* source with the *same* parameters are
compiled into **one** grouped subquery whose HAVING joins their tests with the group's AND/OR: the
seed's "≥ 2 orders in 母婴 in 90 days and average order value > 300 yuan" is one scan of the orders
in the window joined to their lines in the category subtree. A test that a customer with no rows at
all satisfies (``orders_count lte 2``, ``spend eq 0``) cannot be written as ``IN``: it becomes
``customers.id NOT IN (… HAVING NOT test)`` and is never merged.

Everything is plain SQLAlchemy Core that runs on PostgreSQL and SQLite alike; the callers AND the
result with ``customers.shop_id`` and every source filters on the shop as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from souk_platform.customers.models import Customer

DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Context:
    """What every compile step may read: the shop (tenancy) and the clock."""

    shop_id: str
    now: dt.datetime


# A source builds a subquery of fact rows with a ``customer_id`` column for the given parameters.
SourceBuilder = Callable[[Context, dict[str, Any]], sa.Subquery]


@dataclass(frozen=True, slots=True)
class RowMeasure:
    """A value per customer read in the where clause (``expr(ctx, params)``); ``None`` never matches."""

    expr: Callable[[Context, dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class AggMeasure:
    """An aggregate over a source's rows; ``empty`` is its value for a customer with no rows (0, or None)."""

    source: str
    agg: Callable[[sa.Subquery], Any]
    empty: Any = None
    source_params: tuple[str, ...] = ()  # the params that shape the source (all of the field's, by default)


@dataclass(frozen=True, slots=True)
class PredicateMeasure:
    """A field whose test is a whole predicate (``has`` a tag, viewed and not bought since …)."""

    build: Callable[[Context, dict[str, Any], str, Any], sa.ColumnElement[bool]]


Measure = RowMeasure | AggMeasure | PredicateMeasure


@dataclass(slots=True)
class _Grouped:
    """An aggregate leaf waiting to be merged with siblings on the same source."""

    key: tuple[Any, ...]
    source: sa.Subquery
    having: sa.ColumnElement[bool]
    include_empty: bool


@dataclass(slots=True)
class _Compiler:
    ctx: Context
    sources: dict[str, SourceBuilder]
    fields: dict[str, Any]  # key -> fields.Field
    cache: dict[tuple[Any, ...], sa.Subquery] = field(default_factory=dict)

    def group(self, node: dict[str, Any]) -> sa.ColumnElement[bool]:
        parts: list[sa.ColumnElement[bool]] = []
        buckets: dict[tuple[Any, ...], list[_Grouped]] = {}
        for item in node["conditions"]:
            if "op" in item or "conditions" in item:
                parts.append(self.group(item))
                continue
            compiled = self.leaf(item)
            if isinstance(compiled, _Grouped):
                if compiled.include_empty:
                    parts.append(_not_in(compiled.source, sa.not_(compiled.having)))
                else:
                    buckets.setdefault(compiled.key, []).append(compiled)
            else:
                parts.append(compiled)
        join = sa.and_ if node["op"] == "and" else sa.or_
        for grouped in buckets.values():
            having = join(*(g.having for g in grouped)) if len(grouped) > 1 else grouped[0].having
            parts.append(_in(grouped[0].source, having))
        return join(*parts) if len(parts) > 1 else parts[0]

    def leaf(self, leaf: dict[str, Any]) -> sa.ColumnElement[bool] | _Grouped:
        spec = self.fields[leaf["field"]]
        params = leaf.get("params") or {}
        measure = spec.measure
        if isinstance(measure, PredicateMeasure):
            return measure.build(self.ctx, params, leaf["cmp"], leaf["value"])
        if isinstance(measure, RowMeasure):
            return test(spec.compare, measure.expr(self.ctx, params), leaf["cmp"], leaf["value"], self.ctx.now)
        names = measure.source_params or tuple(spec.params)
        shaping = {k: params[k] for k in names if params.get(k) is not None}
        key = (measure.source, tuple(sorted((k, _hashable(v)) for k, v in shaping.items())))
        source = self.cache.get(key)
        if source is None:
            source = self.cache[key] = self.sources[measure.source](self.ctx, shaping)
        having = test(spec.compare, measure.agg(source), leaf["cmp"], leaf["value"], self.ctx.now)
        include_empty = measure.empty is not None and satisfied(spec.compare, measure.empty, leaf["cmp"], leaf["value"])
        return _Grouped(key, source, having, include_empty)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _in(source: sa.Subquery, having: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    ids = sa.select(source.c.customer_id).group_by(source.c.customer_id).having(having)
    return Customer.id.in_(ids)


def _not_in(source: sa.Subquery, having: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    # Sources never yield a NULL customer_id, so NOT IN keeps its plain meaning.
    ids = sa.select(source.c.customer_id).group_by(source.c.customer_id).having(having)
    return Customer.id.not_in(ids)


def compile_tree(
    condition: dict[str, Any], *, ctx: Context, sources: dict[str, SourceBuilder], fields: dict[str, Any]
) -> sa.ColumnElement[bool]:
    return _Compiler(ctx, sources, fields).group(condition)


# --- comparisons ----------------------------------------------------------------------------------------------
#
# ``compare`` is the field's comparison family: "number" (eq, ne, gt, gte, lt, lte, between, in),
# "time" (within_days, not_within_days, before, after, between on a datetime), "elapsed" (a datetime
# compared in whole days since it: "days since the last order ≥ 30"), "choice" (eq, ne, in, not_in).


def _as_time(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _elapsed_bounds(cmp: str, value: Any) -> tuple[int | None, int | None]:
    """The inclusive range of whole days a days-since test accepts."""
    if cmp == "eq":
        return value, value
    if cmp == "gte":
        return value, None
    if cmp == "gt":
        return value + 1, None
    if cmp == "lte":
        return None, value
    if cmp == "lt":
        return None, value - 1
    if cmp == "between":
        return value[0], value[1]
    raise ValueError(f"unknown comparison {cmp!r}")


def test(compare: str, expr: Any, cmp: str, value: Any, now: dt.datetime) -> sa.ColumnElement[bool]:
    """``expr cmp value`` in SQL for a comparison family."""
    if compare == "elapsed":
        # floor((now - t) / 1 day) >= a  <=>  t <= now - a days;  <= b  <=>  t > now - (b + 1) days
        low, high = _elapsed_bounds(cmp, value)
        parts = []
        if low is not None:
            parts.append(expr <= now - low * DAY)
        if high is not None:
            parts.append(expr > now - (high + 1) * DAY)
        return sa.and_(*parts)
    if compare == "bool":
        return expr if value else sa.not_(expr)
    if compare == "time":
        if cmp == "within_days":
            return expr >= now - value * DAY
        if cmp == "not_within_days":
            return expr < now - value * DAY
        if cmp == "before":
            return expr < _as_time(value)
        if cmp == "after":
            return expr > _as_time(value)
        if cmp == "between":
            return sa.and_(expr >= _as_time(value[0]), expr <= _as_time(value[1]))
        raise ValueError(f"unknown comparison {cmp!r}")
    if cmp == "eq":
        return expr == value
    if cmp == "ne":
        return expr != value
    if cmp == "gt":
        return expr > value
    if cmp == "gte":
        return expr >= value
    if cmp == "lt":
        return expr < value
    if cmp == "lte":
        return expr <= value
    if cmp == "between":
        return sa.and_(expr >= value[0], expr <= value[1])
    if cmp == "in":
        return expr.in_(value)
    if cmp == "not_in":
        return expr.not_in(value)
    raise ValueError(f"unknown comparison {cmp!r}")


def satisfied(compare: str, empty: Any, cmp: str, value: Any) -> bool:
    """Whether a customer with no rows (whose aggregate is ``empty``) passes the test, worked out in Python."""
    if compare != "number":
        return False
    checks: dict[str, Callable[[], bool]] = {
        "eq": lambda: empty == value,
        "ne": lambda: empty != value,
        "gt": lambda: empty > value,
        "gte": lambda: empty >= value,
        "lt": lambda: empty < value,
        "lte": lambda: empty <= value,
        "between": lambda: value[0] <= empty <= value[1],
        "in": lambda: empty in value,
        "not_in": lambda: empty not in value,
    }
    return checks[cmp]()


def window(column: Any, ctx: Context, params: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    """The time filter of ``window_days`` (rolling, inclusive: ``t >= now - N days``) or ``date_from``/``date_to``
    (UTC calendar days, both inclusive)."""
    parts: list[sa.ColumnElement[bool]] = []
    if params.get("window_days") is not None:
        parts.append(column >= ctx.now - params["window_days"] * DAY)
    if params.get("date_from") is not None:
        start = dt.datetime.combine(dt.date.fromisoformat(params["date_from"]), dt.time(), tzinfo=dt.UTC)
        parts.append(column >= start)
    if params.get("date_to") is not None:
        end = dt.datetime.combine(dt.date.fromisoformat(params["date_to"]), dt.time(), tzinfo=dt.UTC) + DAY
        parts.append(column < end)
    if not parts:
        parts.append(column <= ctx.now)  # nothing from the future (a clock set back, a bad import)
    return parts


def ratio(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator`` as a real number, NULL when the denominator is 0."""
    return sa.cast(numerator, sa.Float) / sa.func.nullif(sa.cast(denominator, sa.Float), 0.0)


def count_where(condition: sa.ColumnElement[bool]) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def total(column: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(column), 0)


__all__: Sequence[str] = (
    "AggMeasure",
    "Context",
    "PredicateMeasure",
    "RowMeasure",
    "compile_tree",
    "count_where",
    "ratio",
    "satisfied",
    "test",
    "total",
    "window",
)

"""Compiling conditions, checking what they reference, and the registry as the API shows it.

Plain functions over a session and ``now`` (docs/architecture.md §5.8): tags (rule tags), segments and
the reach estimate all call ``compile_condition``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from souk_platform.audience.compiler import Context, compile_tree
from souk_platform.audience.fields import GROUPS, PARAMS, REGISTRY, Field
from souk_platform.audience.schemas import is_group
from souk_platform.audience.sources import SOURCES
from souk_platform.benefits.models import BenefitPackage
from souk_platform.catalog.models import Category, Product
from souk_platform.coupons.models import Coupon
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.tags.errors import InvalidCondition
from souk_platform.tags.models import Tag


def compile_condition(condition: dict[str, Any], *, shop_id: str, now: dt.datetime) -> sa.ColumnElement[bool]:
    """A where clause over ``Customer`` for a validated condition; callers AND it with the shop."""
    return compile_tree(condition, ctx=Context(shop_id, now), sources=SOURCES, fields=REGISTRY)


def matching_customers_stmt(condition: dict[str, Any], *, shop_id: str, now: dt.datetime) -> sa.Select[Any]:
    """``SELECT customers`` of the shop matching the condition."""
    return sa.select(Customer).where(
        Customer.shop_id == shop_id, compile_condition(condition, shop_id=shop_id, now=now)
    )


def count_matching(session: DbSession, *, shop_id: str, condition: dict[str, Any], now: dt.datetime) -> int:
    """How many of the shop's customers match a validated condition now (the reach estimate)."""
    where = compile_condition(condition, shop_id=shop_id, now=now)
    stmt = sa.select(sa.func.count()).select_from(Customer).where(Customer.shop_id == shop_id, where)
    without_jit(session)
    return int(session.scalar(stmt) or 0)


def without_jit(session: DbSession) -> None:
    """PostgreSQL's JIT compiles a reach count's plan for ~0.3 s and saves less than that: off for this transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL jit = off"))


_REFERENCE_PARAMS = {
    "category_id": "category",
    "product_id": "product",
    "coupon_id": "coupon",
    "package_id": "benefit package",
    "tag_id": "tag",
}


def references(condition: dict[str, Any], path: str = "condition") -> Iterator[tuple[str, str, str]]:
    """Every ``(path, kind, id)`` a condition names: tags, categories, products, coupons, benefit packages."""
    if is_group(condition):
        for index, item in enumerate(condition["conditions"]):
            yield from references(item, f"{path}.conditions.{index}")
        return
    spec = REGISTRY[condition["field"]]
    if spec.type == "tag":
        values = condition["value"] if isinstance(condition["value"], list) else [condition["value"]]
        for value in values:
            yield f"{path}.value", "tag", value
    for key, value in (condition.get("params") or {}).items():
        if key in _REFERENCE_PARAMS:
            yield f"{path}.params.{key}", _REFERENCE_PARAMS[key], value


def tag_references(condition: dict[str, Any], path: str = "condition") -> Iterator[tuple[str, str]]:
    """Every ``(path, tag id)`` a condition mentions (a tag in use cannot be deleted)."""
    for where, kind, value in references(condition, path):
        if kind == "tag":
            yield where, value


_MODELS: dict[str, Any] = {
    "tag": Tag,
    "category": Category,
    "product": Product,
    "coupon": Coupon,
    "benefit package": BenefitPackage,
}


def check_references(
    session: DbSession, *, shop_id: str, condition: dict[str, Any], self_tag_id: str | None = None
) -> None:
    """Everything a condition names must be the shop's own (422 naming the paths); a rule tag may not test itself."""
    refs = list(references(condition))
    if not refs:
        return
    known: dict[str, set[str]] = {}
    for kind, model in _MODELS.items():
        wanted = {value for _, k, value in refs if k == kind}
        if wanted:
            known[kind] = set(
                session.scalars(sa.select(model.id).where(model.shop_id == shop_id, model.id.in_(wanted)))
            )
    errors: dict[str, list[str]] = {}
    for path, kind, value in refs:
        if value not in known[kind]:
            errors.setdefault(path, []).append(f"No {kind} {value} in this shop.")
        elif kind == "tag" and value == self_tag_id:
            errors.setdefault(path, []).append("A rule tag cannot test its own tag.")
    if errors:
        names = sorted({kind for _, kind, value in refs})
        raise InvalidCondition(
            f"The condition names {', '.join(n + 's' for n in names)} that cannot be used: " + ", ".join(errors) + ".",
            errors=errors,
        )


def field_view(spec: Field) -> dict[str, Any]:
    group_zh, group_en = GROUPS[spec.group]
    return {
        "key": spec.key,
        "group": spec.group,
        "group_zh": group_zh,
        "group_en": group_en,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "definition_zh": spec.definition_zh,
        "definition_en": spec.definition_en,
        "type": spec.type,
        "cmps": [{"cmp": cmp, "value": kind} for cmp, kind in spec.cmps.items()],
        "params": [
            {"key": key, "kind": PARAMS[key].kind, "name_zh": PARAMS[key].name_zh, "name_en": PARAMS[key].name_en}
            for key in spec.params
        ],
        "choices": list(spec.choices),
        "legacy": spec.legacy,
    }

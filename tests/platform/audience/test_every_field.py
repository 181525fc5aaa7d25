"""Every registered filter field, with every comparison and its parameters, runs on PostgreSQL and on SQLite.

A count (or sum) field gives every customer a value (0 without rows), so ``gte v`` and ``lt v`` split
the shop's customers exactly: that checks the ``NOT IN`` path of tests customers without rows pass.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from souk_platform.audience.compiler import AggMeasure
from souk_platform.audience.fields import REGISTRY, Field
from souk_platform.audience.schemas import load_condition_group
from souk_platform.audience.services import count_matching
from souk_platform.customers.models import Customer

from .conftest import NOW, Shop, build_rich_shop

ALL_FIELDS = sorted(REGISTRY)
# Row fields every customer has a value of (the others are NULL for some, and NULL passes no test).
NEVER_NULL = {
    "level",
    "loyalty.level",
    "loyalty.points_balance",
    "loyalty.stored_value_balance",
    "loyalty.pending_cashback",
}


def test_the_registry_has_at_least_200_distinct_fields_each_described_in_both_languages() -> None:
    assert len(REGISTRY) >= 200
    for spec in REGISTRY.values():
        assert spec.name_zh and spec.name_en and spec.definition_zh and spec.definition_en, spec.key
        assert spec.cmps, spec.key
    assert len({(f.name_en) for f in REGISTRY.values() if not f.legacy}) == len(
        [f for f in REGISTRY.values() if not f.legacy]
    )


def sample_value(kind: str, spec: Field, shop: Shop) -> Any:
    if kind.startswith("range:"):
        low = sample_value(kind.removeprefix("range:"), spec, shop)
        if isinstance(low, str):
            return [(NOW - dt.timedelta(days=400)).isoformat(), NOW.isoformat()]
        if kind in ("range:level", "range:rating", "range:month", "range:monthday"):
            return [low - 1, low + 1]
        return [low, low + 100 if isinstance(low, int) else 1.0]
    return {
        "level": 3,
        "levels": [2, 3],
        "tag": shop.tags["VIP"],
        "tags": [shop.tags["VIP"]],
        "count": 1,
        "amount": 20_000,
        "days": 30,
        "days0": 5,
        "rating": 3,
        "month": 3,
        "months": [3, 4],
        "monthday": 5,
        "age": 30,
        "days_year": 7,
        "ratio": 0.5,
        "number": 1,
        "datetime": (NOW - dt.timedelta(days=30)).isoformat(),
        "bool": True,
        "text": "example.cn"
        if "email" in spec.key
        else "+86138"
        if "phone" in spec.key
        else "wechat_openid"
        if "identity" in spec.key
        else "an",
        "choice": spec.choices[0] if spec.choices else None,
        "choices": list(spec.choices[:2]),
    }[kind]


def sample_params(spec: Field, shop: Shop, *, dates: bool) -> dict[str, Any]:
    values = {
        "window_days": 365,
        "date_from": "2025-01-01",
        "date_to": "2026-03-02",
        "next_days": 30,
        "category_id": shop.categories["母婴"],
        "product_id": shop.products["formula"],
        "product_tag": "baby",
        "payment_method": "cash",
        "channel": "online",
        "keyword": "milk",
        "store": "S1",
        "campaign": "C1",
        "coupon_id": shop.coupons["TEN"],
        "package_id": shop.packages["BIRTHDAY"],
        "tag_id": shop.tags["VIP"],
    }
    skip = {"window_days"} if dates else {"date_from", "date_to"}
    return {key: values[key] for key in spec.params if key not in skip}


def leaf(spec: Field, cmp: str, shop: Shop, params: dict[str, Any]) -> dict[str, Any]:
    raw = {"field": spec.key, "cmp": cmp, "value": sample_value(spec.cmps[cmp], spec, shop)}
    if params:
        raw["params"] = params
    return load_condition_group({"op": "and", "conditions": [raw]})


def check_every_field(session: Any, shop: Shop) -> dict[str, int]:
    total = session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.shop_id == shop.shop_id))
    matched: dict[str, int] = {}
    for key in ALL_FIELDS:
        spec = REGISTRY[key]
        variants = [{}] + (
            [sample_params(spec, shop, dates=False), sample_params(spec, shop, dates=True)] if spec.params else []
        )
        for params in variants:
            for cmp in spec.cmps:
                condition = leaf(spec, cmp, shop, params)
                count = count_matching(session, shop_id=shop.shop_id, condition=condition, now=NOW)
                assert 0 <= count <= total, (key, cmp, params)
                matched[key] = max(matched.get(key, 0), count)
            measure = spec.measure
            splits = (isinstance(measure, AggMeasure) and measure.empty is not None) or key in NEVER_NULL
            if splits and "gte" in spec.cmps and "lt" in spec.cmps:
                value = sample_value(spec.cmps["gte"], spec, shop)
                both = [
                    count_matching(
                        session,
                        shop_id=shop.shop_id,
                        condition=load_condition_group(
                            {
                                "op": "and",
                                "conditions": [
                                    {"field": key, "cmp": cmp, "value": value, **({"params": params} if params else {})}
                                ],
                            }
                        ),
                        now=NOW,
                    )
                    for cmp in ("gte", "lt")
                ]
                assert sum(both) == total, (key, params, both)
    return matched


def test_every_field_runs_on_postgresql(rich: Shop, session: Any) -> None:
    matched = check_every_field(session, rich)
    # The seeded shop is built so that most fields find somebody: a field that never matches is suspect.
    assert sum(1 for count in matched.values() if count) >= 0.8 * len(ALL_FIELDS), sorted(
        k for k, v in matched.items() if not v
    )


@pytest.mark.embedded
def test_every_field_runs_on_sqlite(tmp_path: Any) -> None:
    """On a SQLite file of its own, migrated with the same scripts (the shared embedded app runs the demo's jobs)."""
    from flask_migrate import upgrade

    from souk_platform import create_app
    from souk_platform.db import db

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fields.sqlite3'}",
            "SOUK_REDIS_URL": None,
            "SOUK_JOBS": "inline",
            "SECRET_KEY": "test-secret",
        }
    )
    try:
        with app.app_context():
            upgrade(revision="heads")
            shop = build_rich_shop(db.session)
            matched = check_every_field(db.session, shop)
            assert sum(1 for count in matched.values() if count) >= 0.8 * len(ALL_FIELDS)
            db.session.remove()
            db.engine.dispose()
    finally:
        app.extensions["souk.jobs"].stop()

"""The sample plugins: built from source, equal to the committed modules, valid, and effective at checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa

from souk_platform.catalog.models import Sku
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.extensions import EXTENSION_POINTS
from souk_platform.ledger.services import balance_of
from souk_platform.orders.models import Order
from souk_platform.stored_value.models import CashbackSchedule
from souk_sandbox import Limits, Outcome, Runtime, validate

SAMPLES = Path(__file__).resolve().parents[2] / "sample_plugins"

#: plugin folder -> (extension point, tools its build.sh needs)
PLUGINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tiered_discount": ("cart.discounts", ("clang", "wasm-ld")),
    "member_price": ("cart.discounts", ("asc",)),
    "order_cashback": ("order.cashback", ("clang", "wasm-ld")),
    "tagged_points": ("points.earn", ("clang", "wasm-ld")),
    "risk_guard": ("order.validate", ("clang", "wasm-ld")),
    "next_best_offer": ("journey.split", ("clang", "wasm-ld")),
}


def committed(name: str) -> bytes:
    return (SAMPLES / name / "plugin.wasm").read_bytes()


def config_schema(name: str) -> dict[str, Any]:
    return dict(json.loads((SAMPLES / name / "config.schema.json").read_text()))


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sample_plugins")


def build_from_source(name: str, out_dir: Path) -> bytes:
    """Run the plugin's build.sh with OUT in ``out_dir``; skip (with the reason) when a tool is missing."""
    missing = [tool for tool in PLUGINS[name][1] if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"cannot build {name} from source: {', '.join(missing)} not on PATH")
    out = out_dir / f"{name}.wasm"
    if not out.exists():
        done = subprocess.run(
            ["sh", str(SAMPLES / name / "build.sh")],
            env={**os.environ, "OUT": str(out)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{name} build failed:\n{done.stdout}\n{done.stderr}"
    return out.read_bytes()


def install(api: Any, shop: Any, name: str, config: dict[str, Any]) -> str:
    """Upload the committed module with its config schema and activate it with ``config``."""
    return str(
        api.install(
            shop, name, point=PLUGINS[name][0], module=committed(name), schema=config_schema(name), config=config
        )
    )


TIERS = {"tiers": [{"min_spend": 8000, "amount_off": 1000}, {"min_spend": 20000, "amount_off": 3000}]}
LEVELS = {"percent_off": [0, 2, 5, 8, 12]}


def _line(quantity: int = 1) -> list[dict[str, Any]]:
    return [{"sku_id": "sku_1", "quantity": quantity, "unit_price": 5000}]


def _customer(level: int, **extra: Any) -> dict[str, Any]:
    return {"id": "cus_1", "level": level, "orders_count": 0, **extra}


def _risk(customer_orders: int, ip_customers: int, customer_ips: int) -> dict[str, Any]:
    return {
        "order": {"id": "ord_1", "lines": _line()},
        "buyer": _customer(1),
        "ip": "10.0.0.1",
        "stats": {
            "customer_dense_orders": customer_orders,
            "ip_many_customers": ip_customers,
            "customer_many_ips": customer_ips,
        },
        "thresholds": {},
    }


def _paid(amount: int, **extra: Any) -> dict[str, Any]:
    return {"order": {"id": "ord_1", "lines": _line()}, "paid_amount": amount, "customer_id": "cus_1", **extra}


def _split(customer: dict[str, Any] | None, builtin: str = "coupon") -> dict[str, Any]:
    document: dict[str, Any] = {
        "journey_id": "jrn_1",
        "enrollment_id": "jen_1",
        "customer_id": "cus_1",
        "node_id": "split",
        "branches": ["coupon", "points", "pack"],
        "builtin": builtin,
    }
    return document if customer is None else {**document, "customer": customer}


OFFERS = {
    "rules": [
        {"branch": "points", "min_spent": 50000},  # big spenders: points
        {"branch": "nowhere", "max_orders": 0},  # a branch this split lacks: skipped
        {"branch": "pack", "max_orders": 0},  # first-timers: the coupon pack
        {"branch": "coupon", "min_level": 3, "max_level": 4, "min_orders": 2, "max_spent": 49999},
    ]
}


def _facts(level: int, orders: int, spent: int) -> dict[str, Any]:
    return {"id": "cus_1", "level": level, "orders_count": orders, "total_spent": spent}


# plugin -> [(config, input without config, expected output)]
CASES: dict[str, list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]] = {
    "tiered_discount": [
        (
            TIERS,
            {"lines": _line(5), "customer": None, "subtotal": 25000},
            {"discounts": [{"label": "满200减30", "amount": 3000}]},
        ),
        (
            TIERS,
            {"lines": _line(2), "customer": None, "subtotal": 10000},
            {"discounts": [{"label": "满80减10", "amount": 1000}]},
        ),
        (TIERS, {"lines": _line(1), "customer": None, "subtotal": 5000}, {"discounts": []}),
        (
            {"tiers": [{"min_spend": 0, "amount_off": 9999}, {"min_spend": 12345, "amount_off": 150}]},
            {"lines": _line(1), "customer": None, "subtotal": 5000},
            {"discounts": [{"label": "满0减50", "amount": 5000}]},  # never more than the subtotal
        ),
    ],
    "member_price": [
        (
            LEVELS,
            {"lines": _line(), "customer": _customer(3), "subtotal": 5000},
            {"discounts": [{"label": "V3 member price", "percent": 5}]},
        ),
        (
            LEVELS,
            {"lines": _line(), "customer": _customer(5), "subtotal": 5000},
            {"discounts": [{"label": "V5 member price", "percent": 12}]},
        ),
        (LEVELS, {"lines": _line(), "customer": _customer(1), "subtotal": 5000}, {"discounts": []}),  # 0 % for V1
        (LEVELS, {"lines": _line(), "customer": None, "subtotal": 5000}, {"discounts": []}),  # a guest
        ({"percent_off": [10]}, {"lines": _line(), "customer": _customer(2), "subtotal": 5000}, {"discounts": []}),
        # a string with an escaped quote and braces before the level does not confuse the reader
        (
            LEVELS,
            {"lines": _line(), "customer": {"id": 'a"}{[', "level": 4}, "subtotal": 1},
            {"discounts": [{"label": "V4 member price", "percent": 8}]},
        ),
    ],
    "order_cashback": [
        ({"rate_bp": 500}, _paid(12345), {"amount": 617}),
        ({"rate_bp": 500, "max_amount": 300}, _paid(12345), {"amount": 300}),
        ({"rate_bp": 500, "min_paid": 20000}, _paid(12345), {"amount": 0}),
        ({"rate_bp": 10000}, _paid(10**12), {"amount": 10**12}),
        ({"rate_bp": 500}, _paid(0), {"amount": 0}),
    ],
    "tagged_points": [
        (
            {"tag": "vip", "multiplier": 3},
            _paid(12399, customer=_customer(1, tags=["new", "vip"])),
            {"points": 369, "reason": "tagged customer: x3 points"},
        ),
        (
            {"tag": "vip", "multiplier": 3},
            _paid(12399, customer=_customer(1, tags=["vipx"])),
            {"points": 123, "reason": "base rate"},
        ),
        ({"tag": "vip", "points_per_yuan": 2}, _paid(12399), {"points": 246, "reason": "base rate"}),
        (
            {"tag": "vip", "multiplier": 100, "points_per_yuan": 1000},
            _paid(10**12, customer=_customer(1, tags=["vip"])),
            {"points": 10**9, "reason": "tagged customer: x100 points"},
        ),
    ],
    "next_best_offer": [
        (OFFERS, _split(_facts(1, 3, 50000)), {"branch": "points"}),  # the first rule, at its bound
        (OFFERS, _split(_facts(5, 0, 80000)), {"branch": "points"}),  # both match: the first rule wins
        (OFFERS, _split(_facts(1, 0, 0)), {"branch": "pack"}),
        (OFFERS, _split(_facts(3, 2, 49999)), {"branch": "coupon"}),  # every bound of the last rule
        (OFFERS, _split(_facts(5, 2, 49999), builtin="pack"), {"branch": "pack"}),  # level 5: none; the draw
        (OFFERS, _split(None, builtin="points"), {"branch": "points"}),  # no facts: every condition fails
        ({"rules": [{"branch": "coupon"}]}, _split(None, builtin="points"), {"branch": "coupon"}),  # everyone
        ({"rules": []}, _split(_facts(1, 0, 0), builtin="unknown"), {"branch": "holdout"}),  # ignored by the host
    ],
    "risk_guard": [
        ({"max_orders_per_buyer": 2}, _risk(2, 1, 1), {"allow": True}),
        (
            {"max_orders_per_buyer": 2},
            _risk(3, 1, 1),
            {"allow": False, "reason": "risk_guard: 3 orders from this buyer in the recent window (limit 2)"},
        ),
        (
            {"max_orders_per_buyer": 0, "max_accounts_per_ip": 3},
            _risk(50, 4, 1),
            {"allow": False, "reason": "risk_guard: 4 accounts ordering from this IP in the recent window (limit 3)"},
        ),
        (
            {"max_ips_per_buyer": 1},
            _risk(1, 1, 2),
            {"allow": False, "reason": "risk_guard: 2 IPs used by this buyer in the recent window (limit 1)"},
        ),
    ],
}


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    with Runtime() as rt:
        yield rt


def _invoke(runtime: Runtime, module: bytes, name: str, document: dict[str, Any]) -> Any:
    point = EXTENSION_POINTS[PLUGINS[name][0]]
    result = runtime.load(module).invoke(document, limits=Limits.for_lines(1))
    assert result.outcome is Outcome.OK, (name, result.outcome, result.message)
    assert point.input_problems(document) == []
    assert point.output_problems(result.output) == [], result.output
    return result.output


def test_every_sample_has_source_build_script_readme_and_module() -> None:
    for name in PLUGINS:
        folder = SAMPLES / name
        assert (folder / "build.sh").is_file() and (folder / "README.md").is_file(), name
        assert (folder / "plugin.c").is_file() or (folder / "plugin.ts").is_file(), name
        jsonschema.Draft202012Validator.check_schema(config_schema(name))
    assert {(SAMPLES / n / "plugin.ts").exists() for n in PLUGINS} == {True, False}  # both toolchains


@pytest.mark.parametrize("name", list(PLUGINS))
def test_fresh_build_validates_and_behaves_like_the_committed_module(
    name: str, build_dir: Path, runtime: Runtime
) -> None:
    fresh = build_from_source(name, build_dir)
    old = committed(name)
    for module in (fresh, old):
        info = validate(module)  # raises InvalidModule when the ABI or the limits are not met
        assert {"memory", "alloc", "run"} <= set(info.exports)
        assert info.size_bytes == len(module) < 16 * 1024
    validator = jsonschema.Draft202012Validator(config_schema(name))
    for config, payload, expected in CASES[name]:
        assert list(validator.iter_errors(config)) == [], config
        document = {**payload, "config": config}
        assert _invoke(runtime, fresh, name, document) == expected
        assert _invoke(runtime, old, name, document) == expected
    if fresh != old:  # behaviour is what must match; a different compiler version may change the bytes
        warnings.warn(f"{name}: the fresh build is not byte-identical to the committed plugin.wasm", stacklevel=1)


@pytest.mark.parametrize("name", list(PLUGINS))
@pytest.mark.parametrize(
    "junk", [b"", b"{", b"[1,2", b'{"config":', b'{"config":{"tiers":[{"min_spend":}]}}', b"\xff" * 64]
)
def test_malformed_input_never_traps(name: str, junk: bytes, runtime: Runtime) -> None:
    result = runtime.load(committed(name)).invoke_json(junk, limits=Limits.for_lines(1))
    assert result.outcome is Outcome.OK, (result.outcome, result.message)
    assert EXTENSION_POINTS[PLUGINS[name][0]].output_problems(result.output) == []


# --- through a real checkout -------------------------------------------------------------------------


def _count(model: Any, shop_id: str) -> int:
    db.session.expire_all()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.shop_id == shop_id)) or 0)


def _reserved(sku_id: str) -> int:
    db.session.expire_all()
    sku = db.session.get(Sku, sku_id)
    assert sku is not None
    return sku.reserved


def test_tiered_discount_at_checkout(api: Any, shop: Any) -> None:
    plugin_id = install(api, shop, "tiered_discount", TIERS)
    small = api.checkout(shop, quantity=1).get_json()  # 5000: no tier
    assert (small["subtotal"], small["discount_total"], small["total"]) == (5000, 0, 5000)
    r = api.checkout(shop, quantity=2)  # 10000: 满80减10
    order = r.get_json()
    assert r.status_code == 201, order
    assert (order["subtotal"], order["discount_total"], order["total"]) == (10000, 1000, 9000)
    assert [(d["label"], d["amount"]) for d in order["discounts"]] == [("满80减10", 1000)]
    order = api.checkout(shop, quantity=4).get_json()  # 20000: 满200减30
    assert (order["discount_total"], order["total"]) == (3000, 17000)
    assert [e["outcome"] for e in api.invocations(shop, plugin_id)] == ["ok"] * 3


def test_member_price_at_checkout(api: Any, shop: Any, session: Any) -> None:
    install(api, shop, "member_price", LEVELS)
    assert api.checkout(shop, quantity=2).get_json()["discount_total"] == 0  # V1: 0 %
    session.get(Customer, shop.customer_id).level = 4
    session.commit()
    order = api.checkout(shop, quantity=2).get_json()
    assert (order["subtotal"], order["discount_total"], order["total"]) == (10000, 800, 9200)
    assert [d["label"] for d in order["discounts"]] == ["V4 member price"]


def test_order_cashback_is_scheduled_when_the_order_is_paid(api: Any, shop: Any) -> None:
    plugin_id = install(api, shop, "order_cashback", {"rate_bp": 750, "max_amount": 100_000})
    order = api.checkout(shop, quantity=3).get_json()  # 15000 fen
    assert _count(CashbackSchedule, shop.id) == 0
    api.pay(shop, order["id"])

    db.session.expire_all()
    schedules = db.session.scalars(sa.select(CashbackSchedule).where(CashbackSchedule.shop_id == shop.id)).all()
    assert [(s.order_id, s.customer_id, s.amount, s.status) for s in schedules] == [
        (order["id"], shop.customer_id, 1125, "pending")  # 7.5 % of 15000
    ]
    events = db.session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop.id, OutboxEvent.type == "cashback.scheduled")
    ).all()
    assert len(events) == 1
    log = api.invocations(shop, plugin_id)
    assert [(e["point"], e["outcome"], e["output"]) for e in log] == [("order.cashback", "ok", {"amount": 1125})]


def _points(shop: Any) -> int:
    db.session.expire_all()
    return balance_of(db.session, shop_id=shop.id, kind="customer.points", owner_id=shop.customer_id, unit="PTS")


def test_tagged_points_replaces_the_builtin_earn_rule_when_paid(api: Any, shop: Any) -> None:
    install(api, shop, "tagged_points", {"tag": "vip", "multiplier": 3, "points_per_yuan": 2})
    order = api.checkout(shop, quantity=1).get_json()
    api.pay(shop, order["id"])
    assert _points(shop) == 100  # untagged: 5000 fen = 50 yuan × 2 (the shop's built-in rule gives 50)

    r = api.client.post("/api/v1/tags", json={"name": "vip", "kind": "manual"}, headers=shop.headers)
    assert r.status_code == 201, r.get_json()
    r = api.client.post(
        f"/api/v1/tags/{r.get_json()['id']}/customers", json={"customer_ids": [shop.customer_id]}, headers=shop.headers
    )
    assert r.status_code < 300, r.get_json()
    order = api.checkout(shop, quantity=1).get_json()
    api.pay(shop, order["id"])
    assert _points(shop) == 100 + 300  # tagged "vip": 50 yuan × 2 × 3


def test_risk_guard_denies_the_third_order_and_writes_nothing(api: Any, shop: Any) -> None:
    plugin_id = install(api, shop, "risk_guard", {"max_orders_per_buyer": 2})
    for _ in range(2):
        r = api.checkout(shop)
        assert r.status_code == 201, r.get_json()
    orders_before = _count(Order, shop.id)
    reserved_before = _reserved(shop.tea)
    r = api.checkout(shop)
    body = r.get_json()
    assert r.status_code == 422, body
    assert body["type"].endswith("/order-rejected")
    assert "3 orders from this buyer in the recent window (limit 2)" in body["detail"]
    assert "risk_guard" in body["detail"]
    assert _count(Order, shop.id) == orders_before == 2
    assert _reserved(shop.tea) == reserved_before
    # The two allowed calls are in the invocation log (newest first). The denying call's log entry is
    # written in the checkout's transaction, which the rejection rolls back: a platform gap, reported.
    assert [e["output"]["allow"] for e in api.invocations(shop, plugin_id)][-2:] == [True, True]

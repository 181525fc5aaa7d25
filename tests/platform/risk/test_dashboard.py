"""The risk dashboard, the replay of recorded decisions and the platform admin's cross-shop view
(docs/architecture.md §5.13), on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from factories import form_key
from souk_platform.auth.services import create_user
from souk_platform.core.ids import new_id
from souk_platform.db import db
from souk_platform.risk.models import RiskDecision
from souk_platform.shops.services import add_staff

from .conftest import build_shop

THRESHOLDS = {
    "customer_dense_orders": {"max": 5, "window_minutes": 60, "outcome": "deny"},
    "ip_many_customers": {"max": 3, "window_minutes": 60, "outcome": "deny"},
    "customer_many_ips": {"max": 3, "window_minutes": 60, "outcome": "deny"},
    "device_many_customers": {"max": 3, "window_minutes": 60, "outcome": "review"},
    "new_account_high_value": {"max": 0, "window_minutes": 1440, "outcome": "review"},
}


def decide(
    session: Any,
    shop_id: str,
    at: dt.datetime,
    *,
    outcome: str = "allow",
    rules: tuple[tuple[str, str], ...] = (),
    dense: int = 1,
    customer: str | None = "cus_a",
    ip: str | None = "10.0.0.1",
    listed: bool = False,
) -> RiskDecision:
    """A recorded checkout decision: ``dense`` is the customer_dense_orders figure the rules saw."""
    fired = [{"rule": name, "source": "list" if listed else "rule", "outcome": o, "reason": "r"} for name, o in rules]
    inputs: dict[str, Any] = {"order_value": 5000, "account_age_minutes": 99999, "thresholds": THRESHOLDS, "lists": []}
    if not listed:
        inputs["stats"] = {
            "customer_dense_orders": dense,
            "ip_many_customers": 1,
            "customer_many_ips": 1,
            "device_many_customers": 0,
            "new_account_high_value": 5000,
        }
    decision = RiskDecision(
        id=new_id("rkd"),
        shop_id=shop_id,
        action="checkout",
        subject_type="order",
        subject_id=new_id("ord"),
        customer_id=customer,
        ip=ip,
        outcome=outcome,
        rule_names="," + ",".join(n for n, _ in rules) + "," if rules else "",
        rules=fired,
        inputs=inputs,
        created_at=at,
    )
    session.add(decision)
    return decision


def _yesterday(clock: Any) -> dt.datetime:
    """Noon, Shanghai time, of the shop's yesterday (the clock is 2026-03-02 18:00 there)."""
    return dt.datetime(2026, 3, 1, 4, 0, tzinfo=dt.UTC)


def test_dashboard_counts_known_decisions_per_local_day_and_ranks_rules_ips_and_customers(
    client, session, clock, shop, buyer
):
    now = clock.now()
    dense = (("customer_dense_orders", "deny"),)
    decide(session, shop.id, now - dt.timedelta(hours=1))
    decide(session, shop.id, now - dt.timedelta(hours=2), outcome="deny", rules=dense, ip="10.9.9.9", customer="cus_x")
    decide(session, shop.id, now - dt.timedelta(hours=3), outcome="deny", rules=dense, ip="10.9.9.9", customer="cus_x")
    decide(
        session,
        shop.id,
        now - dt.timedelta(days=1),
        outcome="review",
        rules=(("device_many_customers", "review"), ("customer_dense_orders", "review")),
        ip="10.8.8.8",
    )
    # 2026-03-02 00:30 Shanghai is still "today" locally, though 2026-03-01 in UTC
    decide(session, shop.id, dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC))
    decide(session, shop.id, now - dt.timedelta(days=20))  # outside the 14 days
    other = build_shop(session, clock, points=0)
    decide(session, other.id, now - dt.timedelta(hours=1), outcome="deny", rules=dense, ip="10.9.9.9")
    session.commit()

    r = buyer.get("/risk/dashboard?days=14")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert len(body["per_day"]) == 14 and body["timezone"] == "Asia/Shanghai"
    today, yesterday = body["per_day"][-1], body["per_day"][-2]
    assert today == {"date": "2026-03-02", "allow": 2, "review": 0, "deny": 2, "total": 4}
    assert yesterday == {"date": "2026-03-01", "allow": 0, "review": 1, "deny": 0, "total": 1}
    assert body["totals"] == {"allow": 2, "review": 1, "deny": 2, "total": 5}  # the other shop's never counted
    assert body["top_rules"] == [
        {"rule": "customer_dense_orders", "count": 3},
        {"rule": "device_many_customers", "count": 1},
    ]
    assert body["top_ips"][0] == {"ip": "10.9.9.9", "deny": 2, "review": 0}
    assert body["top_customers"][0] == {"customer_id": "cus_x", "deny": 2, "review": 0}
    assert body["open_reviews"] == 0
    assert buyer.get("/risk/dashboard?days=0").status_code == 422


def test_dashboard_statements_do_not_grow_with_decisions(session, clock, shop):
    from souk_platform.risk.services import risk_dashboard
    from souk_platform.shops.services import get_shop

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def run() -> int:
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            risk_dashboard(session, shop=get_shop(session, shop.id), days=14, now=clock.now())
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    decide(session, shop.id, clock.now(), outcome="deny", rules=(("customer_dense_orders", "deny"),))
    session.commit()
    few = run()
    for i in range(30):
        decide(session, shop.id, clock.now() - dt.timedelta(hours=i), outcome="deny", ip=f"10.1.0.{i}")
    session.commit()
    assert run() == few


def test_replay_counts_what_changed_thresholds_would_decide_and_writes_nothing(session, clock, shop, buyer):
    day = _yesterday(clock)
    dense = (("customer_dense_orders", "deny"),)
    first = decide(session, shop.id, day, dense=2)  # allowed; denied at a limit of 1
    decide(session, shop.id, day + dt.timedelta(minutes=1), dense=1)  # allowed either way
    released = decide(session, shop.id, day + dt.timedelta(minutes=2), outcome="deny", rules=dense, dense=7)
    decide(session, shop.id, day, outcome="deny", rules=(("block_list:ip", "deny"),), listed=True)
    decide(session, shop.id, clock.now(), dense=9)  # today: not in the replayed day
    other = build_shop(session, clock, points=0)
    decide(session, other.id, day, dense=9)
    session.commit()
    before = session.scalar(sa.select(sa.func.count()).select_from(RiskDecision))
    version = buyer.get("/risk/settings").get_json()["version"]

    body = {"thresholds": {"rules": [{"rule": "customer_dense_orders", "threshold": 1}]}}
    r = buyer.post("/risk/replay", body)
    assert r.status_code == 200, r.get_json()
    result = r.get_json()
    assert result["decisions"] == 4 and result["replayed"] == 3 and result["decided_by_lists"] == 1
    assert result["changed"] == 1
    assert result["changes"] == [{"before": "allow", "after": "deny", "count": 1}]
    assert [s["id"] for s in result["sample"]] == [first.id]
    assert result["sample"][0]["rules_after"] == ["customer_dense_orders"]
    dense_rule = next(rule for rule in result["rules"] if rule["rule"] == "customer_dense_orders")
    assert dense_rule == {
        "rule": "customer_dense_orders",
        "outcome": "deny",
        "fired_before": 1,
        "fired_after": 2,
        "newly_fired": 1,
        "no_longer_fired": 0,
    }

    loosen = {"date": "2026-03-01", "thresholds": {"rules": [{"rule": "customer_dense_orders", "threshold": 10}]}}
    result = buyer.post("/risk/replay", loosen).get_json()
    assert result["changes"] == [{"before": "deny", "after": "allow", "count": 1}]
    assert [s["id"] for s in result["sample"]] == [released.id]

    review = {"thresholds": {"rules": [{"rule": "customer_dense_orders", "threshold": 1, "outcome": "review"}]}}
    changes = buyer.post("/risk/replay", review).get_json()["changes"]
    assert {(c["before"], c["after"]): c["count"] for c in changes} == {("allow", "review"): 1, ("deny", "review"): 1}

    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(RiskDecision)) == before
    assert buyer.get("/risk/settings").get_json()["version"] == version


def test_replay_refuses_bad_thresholds_and_periods_naming_the_field(buyer):
    r = buyer.post("/risk/replay", {"thresholds": {"rules": [{"rule": "customer_dense_orders", "threshold": -1}]}})
    assert r.status_code == 422
    assert "thresholds.rules.0.threshold" in r.get_json()["errors"]
    r = buyer.post("/risk/replay", {"thresholds": {"rules": [{"rule": "nope", "threshold": 1}]}})
    assert r.status_code == 422 and "thresholds.rules.0.rule" in r.get_json()["errors"]
    r = buyer.post("/risk/replay", {"thresholds": {"rules": [{"rule": "ip_many_customers", "window": 0}]}})
    assert r.status_code == 422 and "thresholds.rules.0.window" in r.get_json()["errors"]
    r = buyer.post("/risk/replay", {"from": "2026-03-01T00:00:00Z", "thresholds": {"rules": []}})
    assert r.status_code == 422 and "to" in r.get_json()["errors"]
    period = {"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z", "thresholds": {"rules": []}}
    assert buyer.post("/risk/replay", period).status_code == 422
    assert buyer.post("/risk/replay", {"thresholds": {"rules": []}, "extra": 1}).status_code == 422


def _log_in(client: Any, session: Any, email: str, *, admin: bool = False, shop_id: str | None = None) -> None:
    user = create_user(session, email=email, name="Person", password="correct horse")
    if admin:
        user.is_platform_admin = True
    if shop_id:
        add_staff(session, shop_id=shop_id, user=user, role="owner")
    session.commit()
    assert client.post("/login", data={"email": email, "password": "correct horse"}).status_code == 302


def test_dashboard_page_shows_the_chart_tops_and_queue(client, session, clock, shop):
    decide(session, shop.id, clock.now(), outcome="deny", rules=(("customer_dense_orders", "deny"),), ip="10.7.7.7")
    session.commit()
    _log_in(client, session, "owner@dash.example", shop_id=shop.id)
    page = client.get(f"/shops/{shop.id}/risk/dashboard").get_data(as_text=True)
    assert "<svg" in page and "Dense buying by one customer" in page and "10.7.7.7" in page
    assert f"/shops/{shop.id}/risk/reviews" in page
    assert f"/shops/{shop.id}/risk/dashboard" in client.get(f"/shops/{shop.id}/risk").get_data(as_text=True)


def test_settings_preview_shows_the_replay_and_saves_nothing(client, session, clock, shop):
    decide(session, shop.id, _yesterday(clock), dense=3)
    session.commit()
    _log_in(client, session, "owner@preview.example", shop_id=shop.id)
    form = {
        f"{name}_{part}": value
        for name in ("customer_dense_orders", "ip_many_customers", "customer_many_ips", "device_many_customers")
        for part, value in (("threshold", 2), ("window", 60), ("outcome", "deny"))
    }
    form |= {
        "new_account_high_value_threshold": "0",
        "new_account_high_value_window": 24,
        "new_account_high_value_outcome": "review",
        "review_expiry_hours": 24,
        "review_expiry_action": "cancel",
        "form_key": form_key(),
    }
    r = client.post(f"/shops/{shop.id}/risk/settings/preview", data=form)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'data-replay-changed="1"' in page and "Allowed → Denied" in page
    session.expire_all()
    from souk_platform.shops.models import Shop as ShopModel

    assert (session.get(ShopModel, shop.id).settings or {}).get("risk_customer_orders_max", 5) != 2


def test_admin_risk_page_is_for_platform_admins_only(client, session, clock, shop):
    decide(session, shop.id, clock.now(), outcome="deny", rules=(("customer_dense_orders", "deny"),))
    decide(session, shop.id, clock.now(), outcome="review", rules=(("device_many_customers", "review"),))
    session.commit()
    assert client.get("/admin/risk").status_code in (302, 401)
    _log_in(client, session, "merchant@admin.example", shop_id=shop.id)
    assert client.get("/admin/risk").status_code == 403
    client.post("/logout")
    _log_in(client, session, "root@admin.example", admin=True)
    r = client.get("/admin/risk")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert f'data-shop="{shop.id}"' in page and "Dense buying by one customer" in page

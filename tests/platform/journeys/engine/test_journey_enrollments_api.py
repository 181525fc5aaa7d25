"""The enrolments API and the journey report (docs/architecture.md §5.12): where each customer is and why,
taking one out by hand, per-node counts and per-variant uplift against the holdout."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.core.clock import FrozenClock
from souk_platform.events.services import emit
from souk_platform.journeys import engine
from souk_platform.journeys.models import JourneyEnrollment
from souk_platform.journeys.report import uplift
from souk_platform.webhooks.services import dispatch_outbox

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def node(type: str, params: dict[str, Any] | None = None, **next: str) -> dict[str, Any]:
    return {"type": type, "params": params or {}, "next": next, "position": {"x": 0, "y": 0}}


SPLIT_JOURNEY = {
    "entry": "start",
    "nodes": {
        "start": node("trigger", {"kind": "event", "event": "customer.created"}, default="split"),
        "split": node(
            "split",
            {"variants": [{"key": "a", "weight": 1}], "holdout_percent": 50},
            a="wait",
            holdout="end",
        ),
        "wait": node("wait", {"kind": "duration", "seconds": 3600}, default="end"),
        "end": node("exit"),
    },
    "goal": {"event": "order.paid", "within_days": 7},
    "exit": [],
    "settings": {"reentry": "never"},
}


def _run(session, now=NOW):
    while dispatch_outbox(session, clock=FrozenClock(now))[0]:
        session.commit()
    while engine.drain(session, now=now):
        session.commit()
    while engine.advance_batch(session, now=now):
        session.commit()
    session.commit()


def _enter(session, shop_id: str, customers) -> None:
    for customer in customers:
        emit(
            session,
            shop_id=shop_id,
            type="customer.created",
            subject_type="customer",
            subject_id=customer.id,
            payload={"id": customer.id, "version": 1},
            created_at=NOW,
        )
    session.commit()
    _run(session)


def test_uplift_is_the_two_proportion_test():
    result = uplift(200, 1000, 150, 1000)
    assert math.isclose(result["difference"], 0.05)
    assert math.isclose(result["standard_error"], math.sqrt(0.2 * 0.8 / 1000 + 0.15 * 0.85 / 1000))
    assert math.isclose(result["ci_low"], 0.05 - 1.959964 * result["standard_error"], rel_tol=1e-6)
    assert math.isclose(result["z"], 2.94245, rel_tol=1e-4)
    assert math.isclose(result["p_value"], 0.003256, rel_tol=1e-3)
    assert result["significant"] and math.isclose(result["relative"], 0.05 / 0.15)
    flat = uplift(10, 100, 10, 100)
    assert flat["difference"] == 0 and flat["p_value"] == pytest.approx(1.0) and not flat["significant"]
    assert uplift(0, 10, 0, 10)["p_value"] is None  # nobody converted anywhere: no test
    assert uplift(5, 10, 0, 0) is None


def test_enrollments_show_where_each_customer_is_and_why(client, session, make_journey, make_customers):
    shop = ShopFactory()
    # 24 customers, half held out by a hash of each random enrolment id: at least two on each side but for
    # a chance of 50 in 2^24 (with 12, a run in ~300 had a single one waiting and the page of 2 failed).
    customers = make_customers(shop.id, 24)
    journey = make_journey(shop.id, SPLIT_JOURNEY)
    _enter(session, shop.id, customers)
    headers = token_for(shop, ["read_journeys"])
    url = f"/api/v1/journeys/{journey.id}/enrollments"
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    assert len(items) == 24
    waiting = [i for i in items if i["status"] == "waiting"]
    done = [i for i in items if i["status"] == "completed"]
    assert waiting and done and len(waiting) + len(done) == 24
    assert all(i["variant"] == "a" and i["current_node"] == "wait" for i in waiting)
    assert all(i["wake_at"].startswith("2026-03-02T11:00:00") and "waiting until" in i["why"] for i in waiting)
    assert all(i["variant"] == "holdout" and i["exit_reason"] == "completed" for i in done)
    assert [s["node_id"] for s in waiting[0]["steps"]] == ["start", "split"]
    assert waiting[0]["steps"][1]["exit_taken"] == "a"
    # Filters, paging and one enrolment with every step.
    r = client.get(url + "?status=waiting&node=wait&limit=2", headers=headers)
    assert len(r.get_json()["items"]) == 2 and 'rel="next"' in r.headers["Link"]
    customer = waiting[0]["customer_id"]
    assert [
        i["customer_id"] for i in client.get(url + f"?customer_id={customer}", headers=headers).get_json()["items"]
    ] == [customer]
    one = client.get(f"{url}/{done[0]['id']}", headers=headers).get_json()
    assert [s["node_id"] for s in one["steps"]] == ["start", "split", "end"]
    # By hand: out once, then 409; the other shop sees nothing.
    writer = token_for(shop, ["write_journeys"])
    r = client.post(f"{url}/{waiting[0]['id']}/exit", headers=writer)
    assert r.status_code == 200 and (r.get_json()["status"], r.get_json()["exit_reason"]) == ("exited", "manual")
    r = client.post(f"{url}/{waiting[0]['id']}/exit", headers=writer)
    assert r.status_code == 409 and r.get_json()["type"].endswith("journey-enrollment-finished")
    other = token_for(ShopFactory(), ["read_journeys"])
    assert client.get(url, headers=other).status_code == 404
    assert client.get(f"{url}/{done[0]['id']}", headers=other).status_code == 404
    assert client.get(url, headers=token_for(shop, ["read_orders"])).status_code == 403


def test_the_report_counts_nodes_and_compares_variants_with_the_holdout(client, session, make_journey, make_customers):
    shop = ShopFactory()
    customers = make_customers(shop.id, 40)
    journey = make_journey(shop.id, SPLIT_JOURNEY)
    _enter(session, shop.id, customers)
    enrollments = list(session.scalars(sa.select(JourneyEnrollment).where(JourneyEnrollment.journey_id == journey.id)))
    a = [e for e in enrollments if e.variant == "a"]
    holdout = [e for e in enrollments if e.variant == "holdout"]
    buyers = a[: len(a) // 2] + holdout[:1]
    for e in buyers:
        emit(
            session,
            shop_id=shop.id,
            type="order.paid",
            subject_type="order",
            subject_id="ord_1",
            payload={"id": "ord_1", "customer_id": e.customer_id, "total": 5000, "version": 2},
            created_at=NOW,
        )
    session.commit()
    _run(session, NOW + dt.timedelta(minutes=5))
    r = client.get(f"/api/v1/journeys/{journey.id}/report", headers=token_for(shop, ["read_journeys"]))
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    nodes = {n["node_id"]: n for n in report["nodes"]}
    assert nodes["start"]["entered"] == 40 and nodes["split"]["entered"] == 40
    converted_a = len(a) // 2
    assert nodes["wait"] == {
        "node_id": "wait",
        "type": "wait",
        "entered": len(a),
        "waiting": len(a) - converted_a,
        "exited": converted_a,
    }
    assert nodes["end"]["entered"] == len(holdout) and nodes["end"]["exited"] == len(holdout)
    variants = {v["variant"]: v for v in report["variants"]}
    assert variants["a"]["enrolled"] == len(a) and variants["a"]["converted"] == converted_a
    assert variants["a"]["revenue"] == 5000 * converted_a
    assert variants["holdout"]["converted"] == 1 and variants["holdout"]["uplift"] is None
    expected = uplift(converted_a, len(a), 1, len(holdout))
    assert variants["a"]["uplift"]["ci_low"] == pytest.approx(expected["ci_low"])
    assert variants["a"]["uplift"]["p_value"] == pytest.approx(expected["p_value"])
    assert report["totals"]["converted"] == converted_a + 1

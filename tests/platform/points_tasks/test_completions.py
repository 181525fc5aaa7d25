"""Completing tasks: profile, first order, reviews, invitations — caps, references, risk (deny and hold)."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.ledger.services import check_invariants
from souk_platform.points_tasks.models import PointsTaskCompletion
from souk_platform.shops.services import update_shop


def _complete(api, task, customer=None, reference=None, **body):
    payload = {"customer_id": customer or api.customer, **body}
    if reference is not None:
        payload["reference"] = reference
    return api.post(f"/points-tasks/{task['id']}/completions", payload)


def _type(r):
    return r.get_json()["type"].rsplit("/", 1)[1]


def test_complete_profile_pays_once_when_the_fields_are_filled(api):
    task = api.task(kind="complete_profile", points=100, params={"profile_fields": ["phone", "birthday"]})
    r = _complete(api, task)
    assert r.status_code == 409 and _type(r) == "points-task-not-met" and r.get_json()["missing"] == ["birthday"]
    customer = api.get(f"/customers/{api.customer}").get_json()
    r = api.client.patch(
        f"/api/v1/customers/{api.customer}",
        json={"birthday": "1990-05-01"},
        headers={**api.headers, "If-Match": f'"{customer["version"]}"'},
    )
    assert r.status_code == 200, r.get_json()
    done = _complete(api, task)
    assert done.status_code == 201 and done.get_json()["status"] == "completed" and done.get_json()["points"] == 100
    again = _complete(api, task)
    assert again.status_code == 409 and _type(again) == "points-task-already-completed"
    assert api.points() == 100
    assert db.session.scalars(
        sa.select(OutboxEvent.type).where(
            OutboxEvent.shop_id == api.shop_id, OutboxEvent.type == "points_task.completed"
        )
    ).all() == ["points_task.completed"]


def test_post_review_pays_per_review_within_the_daily_cap_and_never_twice_for_one_review(api, clock):
    task = api.task(kind="post_review", points=20, daily_cap=2, total_cap=3)
    assert _complete(api, task, reference="rev-1").status_code == 201
    same = _complete(api, task, reference="rev-1")
    assert same.status_code == 409 and _type(same) == "points-task-reference-used"
    assert _complete(api, task, reference="rev-2").status_code == 201
    capped = _complete(api, task, reference="rev-3")
    assert capped.status_code == 409 and _type(capped) == "points-task-cap-reached"
    assert capped.get_json()["cap"] == "daily_cap"
    clock.advance(days=1)
    assert _complete(api, task, reference="rev-3").status_code == 201
    clock.advance(days=1)
    total = _complete(api, task, reference="rev-4")
    assert total.status_code == 409 and total.get_json()["cap"] == "total_cap"
    # the same review id cannot pay another customer either
    other = _complete(api, task, customer=api.friend, reference="rev-1")
    assert other.status_code == 409 and _type(other) == "points-task-reference-used"
    assert api.points() == 60 and api.points(api.friend) == 0
    listed = api.get(f"/points-tasks/{task['id']}/completions").get_json()["items"]
    assert [c["reference"] for c in listed] == ["rev-3", "rev-2", "rev-1"]


def test_reference_rules_and_bad_bodies_are_422_and_write_nothing(api):
    review = api.task(kind="post_review")
    profile = api.task(kind="complete_profile", params={"profile_fields": ["phone"]})
    invite = api.task(kind="invite_friend", points=30)
    assert _complete(api, review).get_json()["errors"] == {"reference": ["Missing data for required field."]}
    assert "reference" in _complete(api, profile, reference="x").get_json()["errors"]
    assert "reference" in _complete(api, invite, reference="cus_nobody").get_json()["errors"]
    assert "reference" in _complete(api, invite, reference=api.customer).get_json()["errors"]  # not oneself
    assert _complete(api, review, reference="").status_code == 422
    assert _complete(api, review, reference="r", points=5).status_code == 422  # unknown field
    assert _complete(api, review, customer="cus_nobody", reference="r").status_code == 404
    r = api.post(f"/points-tasks/{review['id']}/completions", {"customer_id": api.customer, "reference": "r"}, key=None)
    assert r.status_code == 400
    assert api.completions() == 0 and api.points() == 0


def test_invite_friend_when_first_order_waits_for_the_friends_order(api, session, clock):
    task = api.task(kind="invite_friend", points=30, params={"when": "first_order"})
    r = _complete(api, task, reference=api.friend)
    assert r.status_code == 409 and _type(r) == "points-task-not-met"
    _pay_an_order(api, session, api.friend)
    assert _complete(api, task, reference=api.friend).status_code == 201
    assert api.points() == 30


_codes = itertools.count()


def _pay_an_order(api, session, customer_id):
    product = create_product(
        session,
        shop_id=api.shop_id,
        title="Tea",
        status="active",
        skus=[NewSku(code=f"T-{next(_codes)}", title="250g", price=5000, on_hand=10)],
    )
    session.commit()
    sku = product.skus[0].id
    cart = api.post("/carts", {"customer_id": customer_id, "lines": [{"sku_id": sku, "quantity": 1}]}, key=None)
    order = api.post(f"/carts/{cart.get_json()['id']}/checkout", {}, key=None)
    assert order.status_code == 201, order.get_json()
    payment = api.post(f"/orders/{order.get_json()['id']}/payments", {}, key=None).get_json()
    if payment["status"] == "pending":
        api.post(f"/payments/{payment['id']}/callback", {"outcome": "succeeded"}, key=None)
    return order.get_json()["id"]


def test_the_first_paid_order_completes_the_first_order_task_once(api, session):
    task = api.task(kind="first_order", points=200)
    r = _complete(api, task)
    assert r.status_code == 409 and _type(r) == "points-task-automatic"
    first = _pay_an_order(api, session, api.customer)
    earned = 50  # 1 point per yuan on 50 yuan
    assert api.points() == 200 + earned
    _pay_an_order(api, session, api.customer)
    assert api.points() == 200 + 2 * earned
    (completion,) = db.session.scalars(
        sa.select(PointsTaskCompletion).where(PointsTaskCompletion.task_id == task["id"])
    )
    assert (completion.reference, completion.slot, completion.status) == (first, "once", "completed")
    assert check_invariants(db.session) == []


def test_a_customer_who_paid_before_the_task_existed_gets_nothing(api, session):
    _pay_an_order(api, session, api.customer)
    api.task(kind="first_order", points=200)
    _pay_an_order(api, session, api.customer)
    assert api.points() == 100 and api.completions() == 0


def test_risk_deny_is_422_with_its_rule_and_the_decision_survives(api, session):
    update_shop(session, shop_id=api.shop_id, changes={"settings": {"risk_ip_customers_max": 1}}, expected_version=None)
    session.commit()
    task = api.task(kind="post_review", points=20)
    assert _complete(api, task, reference="a", ip="10.9.9.9").status_code == 201
    r = _complete(api, task, customer=api.friend, reference="b", ip="10.9.9.9")
    assert r.status_code == 422 and _type(r) == "risk-denied"
    assert r.get_json()["rule"] == "ip_many_customers"
    allowed, denied = api.decisions()
    assert (allowed.action, allowed.outcome) == ("points_task", "allow")
    assert (denied.id, denied.outcome, denied.action, denied.subject_type) == (
        r.get_json()["decision_id"],
        "deny",
        "points_task",
        "task_completion",
    )
    assert denied.inputs["stats"]["ip_many_customers"] == 2
    assert api.completions() == 1 and api.points(api.friend) == 0


def test_a_sign_in_denied_by_a_block_list_writes_its_decision_only(api, session):
    api.task(kind="daily_sign_in", points=5)
    api.post("/risk/lists", {"list": "block", "kind": "device", "value": "dev-bad"}, key=None)
    r = api.sign_in(device_id="dev-bad")
    assert r.status_code == 422 and r.get_json()["rule"] == "block_list:device"
    (decision,) = api.decisions()
    assert (decision.action, decision.outcome) == ("sign_in", "deny")
    assert api.completions() == 0 and api.points() == 0


def test_review_holds_the_points_until_approved_or_rejected(api, session):
    update_shop(
        session,
        shop_id=api.shop_id,
        changes={"settings": {"risk_device_customers_max": 1, "risk_device_customers_outcome": "review"}},
        expected_version=None,
    )
    session.commit()
    task = api.task(kind="post_review", points=20)
    assert _complete(api, task, reference="a", device_id="d1").status_code == 201
    held = _complete(api, task, customer=api.friend, reference="b", device_id="d1").get_json()
    assert held["status"] == "in_review" and held["points"] == 20 and api.points(api.friend) == 0
    base = f"/points-tasks/{task['id']}/completions/{held['id']}"
    approved = api.post(base + "/approve")
    assert approved.status_code == 200 and approved.get_json()["status"] == "completed"
    assert api.points(api.friend) == 20
    assert api.post(base + "/reject").status_code == 409  # closed
    held2 = _complete(api, task, customer=api.friend, reference="c", device_id="d1").get_json()
    rejected = api.post(f"/points-tasks/{task['id']}/completions/{held2['id']}/reject")
    assert rejected.get_json()["status"] == "rejected" and api.points(api.friend) == 20
    again = _complete(api, task, customer=api.friend, reference="c", device_id="d2")
    assert again.status_code == 409  # a rejected reference stays used
    assert check_invariants(db.session) == []


def test_a_sign_in_held_for_review_counts_for_the_day_and_pays_on_approval(api, session):
    update_shop(
        session,
        shop_id=api.shop_id,
        changes={"settings": {"risk_device_customers_max": 1, "risk_device_customers_outcome": "review"}},
        expected_version=None,
    )
    session.commit()
    task = api.task(kind="daily_sign_in", points=5)
    assert api.sign_in(api.friend, device_id="d1").get_json()["status"] == "completed"
    held = api.sign_in(device_id="d1").get_json()
    assert (held["status"], held["points_awarded"], held["points_held"]) == ("in_review", 0, 5)
    assert api.sign_in(device_id="d9").status_code == 409
    assert api.post(f"/points-tasks/{task['id']}/completions/{held['id']}/approve").status_code == 200
    assert api.points() == 5

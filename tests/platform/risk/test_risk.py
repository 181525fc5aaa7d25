"""Risk control end to end (docs/architecture.md §5.13): every decision recorded, lists, reviews, settings."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.models import Sku
from souk_platform.customers.models import Customer
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.orders.models import Order
from souk_platform.risk import services
from souk_platform.risk.models import RiskReview
from souk_platform.shops.services import update_shop

from .conftest import build_shop


def _settings(session, shop_id, **settings):
    update_shop(session, shop_id=shop_id, changes={"settings": settings}, expected_version=None)
    session.commit()


def _events(shop_id, type):
    db.session.expire_all()
    stmt = sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id, OutboxEvent.type == type)
    return list(db.session.scalars(stmt.order_by(OutboxEvent.id)))


def test_an_allowed_checkout_records_its_decision_with_the_order(buyer, shop):
    r = buyer.checkout(ip="10.0.0.7", device_id="dev-1")
    assert r.status_code == 201 and r.get_json()["status"] == "pending_payment"
    (decision,) = buyer.decisions()
    assert (decision.outcome, decision.action, decision.subject_id) == ("allow", "checkout", r.get_json()["id"])
    assert (decision.ip, decision.device_id, decision.customer_id) == ("10.0.0.7", "dev-1", shop.customer_id)
    assert decision.inputs["stats"]["customer_dense_orders"] == 1 and decision.inputs["order_value"] == 5000
    assert _events(shop.id, "risk.decided") == []  # only decisions that stop something are announced


def test_a_denied_checkout_writes_exactly_one_decision_and_nothing_else(buyer, shop, session):
    _settings(session, shop.id, risk_customer_orders_max=1)
    assert buyer.checkout(points=100).status_code == 201
    before = buyer.snapshot()
    r = buyer.checkout(points=100)
    assert r.status_code == 422 and r.get_json()["type"].endswith("/order-rejected")
    body = r.get_json()
    assert body["rule"] == "customer_dense_orders" and "2 orders" in body["detail"]
    assert buyer.snapshot() == before  # no order, stock or points moved
    _allowed, denied = buyer.decisions()
    assert denied.id == body["decision_id"] and denied.outcome == "deny"
    (fired,) = denied.rules
    assert fired == {
        "rule": "customer_dense_orders",
        "source": "rule",
        "outcome": "deny",
        "reason": fired["reason"],
        "seen": 2,
        "threshold": 1,
        "window_minutes": 60,
    }
    assert db.session.get(Order, denied.subject_id) is None
    (event,) = _events(shop.id, "risk.decided")
    assert event.subject_id == denied.id and event.payload["outcome"] == "deny"
    # the API lists it, filtered by outcome and by rule
    listed = buyer.get("/risk/decisions?outcome=deny").get_json()["items"]
    assert [d["id"] for d in listed] == [denied.id]
    assert [d["id"] for d in buyer.get("/risk/decisions?rule=customer_dense_orders").get_json()["items"]] == [denied.id]
    assert buyer.get("/risk/decisions?rule=ip_many_customers").get_json()["items"] == []
    assert buyer.get(f"/risk/decisions/{denied.id}").get_json()["rules"][0]["seen"] == 2


def test_a_block_list_entry_denies_and_an_allow_entry_beats_the_rules(buyer, shop, session):
    r = buyer.post("/risk/lists", {"list": "block", "kind": "ip", "value": "10.9.9.9", "note": "黄牛"})
    assert r.status_code == 201, r.get_json()
    before = buyer.snapshot()
    r = buyer.checkout(ip="10.9.9.9")
    assert r.status_code == 422 and r.get_json()["rule"] == "block_list:ip"
    assert buyer.snapshot() == before
    assert buyer.checkout(ip="10.0.0.2").status_code == 201  # another IP is not blocked
    # a rule that would deny every order of this customer …
    _settings(session, shop.id, risk_customer_orders_max=1)
    assert buyer.checkout(ip="10.0.0.2").status_code == 422
    # … is beaten by the customer's allow entry, even from the blocked IP
    r = buyer.post("/risk/lists", {"list": "allow", "kind": "customer", "value": shop.customer_id})
    assert r.status_code == 201, r.get_json()
    r = buyer.checkout(ip="10.9.9.9")
    assert r.status_code == 201, r.get_json()
    last = buyer.decisions()[-1]
    assert last.outcome == "allow" and [rule["rule"] for rule in last.rules] == ["allow_list:customer"]


def test_an_expired_list_entry_no_longer_applies(buyer, shop, clock):
    expires = (clock.now() + dt.timedelta(hours=1)).isoformat()
    entry = {"list": "block", "kind": "customer", "value": shop.customer_id, "expires_at": expires}
    r = buyer.post("/risk/lists", entry)
    assert r.status_code == 201, r.get_json()
    assert buyer.checkout().status_code == 422
    clock.advance(hours=2)
    assert buyer.checkout().status_code == 201


def test_list_entries_are_checked_and_listed_once(buyer, shop):
    assert buyer.post("/risk/lists", {"list": "block", "kind": "ip", "value": "not-an-ip"}).status_code == 422
    assert buyer.post("/risk/lists", {"list": "block", "kind": "customer", "value": "cus_nobody"}).status_code == 422
    assert buyer.post("/risk/lists", {"list": "block", "kind": "device", "value": "d1"}).status_code == 201
    assert buyer.post("/risk/lists", {"list": "block", "kind": "device", "value": "d1"}).status_code == 409
    (entry,) = buyer.get("/risk/lists?kind=device").get_json()["items"]
    url = f"/api/v1/risk/lists/{entry['id']}"
    r = buyer.client.patch(url, json={"note": "shared phone"}, headers={**shop.headers, "If-Match": '"1"'})
    assert r.status_code == 200 and r.get_json()["note"] == "shared phone"
    assert buyer.client.delete(url, headers={**shop.headers, "If-Match": '"1"'}).status_code == 412
    assert buyer.client.delete(url, headers={**shop.headers, "If-Match": '"2"'}).status_code == 204


def test_many_accounts_on_one_device_go_to_review(buyer, shop, session):
    _settings(session, shop.id, risk_device_customers_max=2)
    for i in range(2):
        other = create_customer(session, shop_id=shop.id, name=f"小号{i}", phone=f"1390000000{i}")
        session.commit()
        assert buyer.checkout(customer_id=other.id, device_id="phone-1").get_json()["status"] == "pending_payment"
    assert buyer.checkout(device_id="phone-2").get_json()["status"] == "pending_payment"  # another device
    r = buyer.checkout(device_id="phone-1")
    assert r.status_code == 201 and r.get_json()["status"] == "in_review"
    decision = buyer.decisions()[-1]
    assert decision.outcome == "review" and decision.rules[0]["rule"] == "device_many_customers"
    assert decision.rules[0]["seen"] == 3


def test_a_new_account_placing_a_big_order_goes_to_review(buyer, shop, session, clock):
    _settings(session, shop.id, risk_new_account_order_min=10_000, risk_new_account_hours=24)
    assert buyer.checkout(1).get_json()["status"] == "pending_payment"  # 5000 fen: below the amount
    assert buyer.checkout(2).get_json()["status"] == "in_review"  # 10000 fen from a new account
    db.session.expire_all()
    customer = db.session.get(Customer, shop.customer_id)
    customer.created_at = clock.now() - dt.timedelta(hours=25)
    db.session.commit()
    assert buyer.checkout(2).get_json()["status"] == "pending_payment"  # no longer new


def _review_checkout(buyer, shop, session, **body):
    """A checkout risk control holds for review (new account, big order)."""
    _settings(session, shop.id, risk_new_account_order_min=5_000)
    r = buyer.checkout(2, **body)
    assert r.status_code == 201 and r.get_json()["status"] == "in_review", r.get_json()
    order = r.get_json()
    (review,) = buyer.get(f"/risk/reviews?customer_id={shop.customer_id}").get_json()["items"]
    assert review["order_id"] == order["id"] and review["status"] == "open"
    return order, review


def test_review_holds_the_order_until_approved_then_it_is_payable(buyer, shop, session):
    order, review = _review_checkout(buyer, shop, session)
    assert buyer.post(f"/orders/{order['id']}/payments").status_code == 409  # not payable while in review
    assert [e.subject_id for e in _events(shop.id, "risk.review_opened")] == [review["id"]]
    key = {"Idempotency-Key": "approve-1"}
    r = buyer.post(f"/risk/reviews/{review['id']}/approve", {"note": "熟客"}, headers=key)
    assert r.status_code == 200 and r.get_json()["status"] == "approved", r.get_json()
    again = buyer.post(f"/risk/reviews/{review['id']}/approve", {"note": "熟客"}, headers=key)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert buyer.post(f"/risk/reviews/{review['id']}/reject").status_code == 409  # closed
    assert buyer.get(f"/orders/{order['id']}").get_json()["status"] == "pending_payment"
    r = buyer.post(f"/orders/{order['id']}/payments")
    assert r.status_code == 201, r.get_json()
    assert len(_events(shop.id, "order.released")) == 1
    assert _events(shop.id, "risk.review_closed")[0].payload["status"] == "approved"


def test_reject_cancels_the_order_and_gives_stock_and_points_back_exactly(buyer, shop, session):
    before = buyer.snapshot()
    order, review = _review_checkout(buyer, shop, session, points=300)
    assert buyer.snapshot()["points"] == before["points"] - 300
    assert buyer.snapshot()["stock"] == (50, 2)
    r = buyer.post(f"/risk/reviews/{review['id']}/reject", headers={"Idempotency-Key": "reject-1"})
    assert r.status_code == 200 and r.get_json()["status"] == "rejected", r.get_json()
    after = buyer.snapshot()
    assert after["points"] == before["points"] and after["stock"] == before["stock"]
    cancelled = buyer.get(f"/orders/{order['id']}").get_json()
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "rejected by risk review"


def test_the_expiry_job_applies_the_shop_rule_once_however_often_it_runs(buyer, shop, session, clock, app):
    order, review = _review_checkout(buyer, shop, session)
    _settings(session, shop.id, risk_review_expiry_action="release")
    with app.app_context():
        assert services.expire_due_reviews(db.session, now=clock.now()) == 0  # not due yet
        later = clock.now() + dt.timedelta(hours=25)
        assert services.expire_due_reviews(db.session, now=later) == 1
        assert services.expire_due_reviews(db.session, now=later) == 0
    db.session.expire_all()
    closed = db.session.get(RiskReview, review["id"])
    assert (closed.status, closed.closed_by) == ("approved", "expiry")
    assert db.session.get(Order, order["id"]).status == "pending_payment"
    assert len(_events(shop.id, "risk.review_closed")) == 1


def test_the_expiry_job_cancels_when_the_shop_says_so(buyer, shop, session, clock, app):
    before = buyer.snapshot()
    order, _ = _review_checkout(buyer, shop, session, points=100)
    with app.app_context():
        assert services.expire_due_reviews(db.session, now=clock.now() + dt.timedelta(hours=25)) == 1
    db.session.expire_all()
    assert db.session.get(Order, order["id"]).status == "cancelled"
    assert buyer.snapshot()["points"] == before["points"] and buyer.snapshot()["stock"] == before["stock"]


def test_held_stock_outlives_the_payment_window_while_in_review(buyer, shop, session, clock, app):
    """The stock job must not release an in-review order's hold after the usual 30 minutes."""
    from souk_platform.catalog.tasks import release_expired_reservations

    _review_checkout(buyer, shop, session)
    clock.advance(hours=2)
    with app.app_context():
        release_expired_reservations()
    db.session.expire_all()
    assert db.session.get(Sku, shop.sku).reserved == 2


def test_settings_show_every_rule_and_change_with_if_match(buyer, shop):
    r = buyer.get("/risk/settings")
    settings, etag = r.get_json(), r.headers["ETag"]
    assert {rule["rule"] for rule in settings["rules"]} >= {"customer_dense_orders", "new_account_high_value"}
    body = {"rules": [{"rule": "ip_many_customers", "threshold": 3, "outcome": "review"}], "review_expiry_hours": 6}
    url = "/api/v1/risk/settings"
    assert buyer.client.put(url, json=body, headers=shop.headers).status_code == 428
    bad = {"rules": [{"rule": "ip_many_customers", "threshold": 3, "window": 0}]}
    r = buyer.client.put(url, json=bad, headers={**shop.headers, "If-Match": etag})
    assert r.status_code == 422 and "rules.0.window" in r.get_json()["errors"]
    assert buyer.get("/risk/settings").get_json() == settings  # bad input changed nothing
    r = buyer.client.put(url, json=body, headers={**shop.headers, "If-Match": etag})
    assert r.status_code == 200, r.get_json()
    changed = {rule["rule"]: rule for rule in r.get_json()["rules"]}
    assert changed["ip_many_customers"]["threshold"] == 3 and changed["ip_many_customers"]["outcome"] == "review"
    assert r.get_json()["review_expiry_hours"] == 6
    assert buyer.client.put(url, json=body, headers={**shop.headers, "If-Match": etag}).status_code == 412


def test_another_shops_decisions_lists_and_reviews_are_404(buyer, shop, session, client, clock):
    _, review = _review_checkout(buyer, shop, session)
    entry = buyer.post("/risk/lists", {"list": "block", "kind": "ip", "value": "10.1.1.1"}).get_json()
    decision = buyer.decisions()[0]
    other = ShopFactory()
    headers = {**token_for(other), "Idempotency-Key": "k1"}
    for path in (f"/risk/reviews/{review['id']}", f"/risk/lists/{entry['id']}", f"/risk/decisions/{decision.id}"):
        assert client.get("/api/v1" + path, headers=headers).status_code == 404, path
    assert client.post(f"/api/v1/risk/reviews/{review['id']}/approve", json={}, headers=headers).status_code == 404
    assert client.get("/api/v1/risk/reviews", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/risk/decisions", headers=headers).get_json()["items"] == []


def test_scopes_guard_the_risk_api(client, session, clock):
    shop = build_shop(session, clock)
    from souk_platform.shops.models import Shop as ShopModel

    model = db.session.get(ShopModel, shop.id)
    read_only = token_for(model, ["read_risk"])
    assert client.get("/api/v1/risk/decisions", headers=read_only).status_code == 200
    r = client.post("/api/v1/risk/lists", json={"list": "block", "kind": "device", "value": "d"}, headers=read_only)
    assert r.status_code == 403
    assert client.get("/api/v1/risk/decisions", headers=token_for(model, ["read_orders"])).status_code == 403


def _install_validator(buyer, output):
    from plugin_modules import b64, constant_plugin

    body = {"name": "Guard", "point": "order.validate", "module_base64": b64(constant_plugin(output))}
    r = buyer.post("/plugins", body)
    assert r.status_code == 201, r.get_json()
    r = buyer.post("/plugin-activations", {"plugin_id": r.get_json()["id"]})
    assert r.status_code == 201, r.get_json()


def test_a_plugin_asking_for_review_holds_the_order_and_is_named_in_the_decision(buyer):
    _install_validator(buyer, {"allow": True, "review": True, "reason": "first order from a new city"})
    r = buyer.checkout()
    assert r.status_code == 201 and r.get_json()["status"] == "in_review", r.get_json()
    decision = buyer.decisions()[-1]
    assert decision.outcome == "review"
    assert decision.rules[0]["rule"] == "plugin:Guard" and decision.rules[0]["source"] == "plugin"
    assert "first order from a new city" in decision.rules[0]["reason"]


def test_a_plugin_denial_is_recorded_like_a_rule_denial(buyer):
    _install_validator(buyer, {"allow": False, "reason": "blocked by the guard"})
    before = buyer.snapshot()
    r = buyer.checkout()
    assert r.status_code == 422 and r.get_json()["rule"] == "plugin:Guard"
    assert buyer.snapshot() == before
    (decision,) = buyer.decisions()
    assert decision.outcome == "deny" and decision.rules[0]["reason"] == "blocked by the guard (plugin Guard)"

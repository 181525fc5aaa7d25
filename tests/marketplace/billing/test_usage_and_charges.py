"""Usage records against the approved cap, one-time charges, and refunds through the ledger."""

from __future__ import annotations

from marketplace.billing.builders import (
    NOW,
    RETURN,
    TERMS,
    earnings,
    events,
    fees,
    install,
    make_developer,
    shop_balance,
    subscribe,
)

from factories import ShopFactory, token_for
from souk_marketplace.billing import services
from souk_marketplace.billing.models import ChargeRefund
from souk_marketplace.billing.tasks import bill_subscriptions, release_earnings
from souk_platform.apps.services import register_app
from souk_platform.auth.models import User
from souk_platform.auth.services import create_access_token
from souk_platform.oauth.services import issue_app_token
from souk_platform.shops.models import Shop


def _usage(client, world, amount, key, description="SMS sent"):
    return client.post(
        "/api/v1/billing/usage-records",
        json={"description": description, "amount": amount, "idempotency": key},
        headers=world.headers,
    )


def _paid_charge(session, world, amount=10_000):
    charge = services.create_one_time_charge(
        session,
        shop_id=world.shop_id,
        installation_id=world.installation_id,
        name="Store setup",
        amount=amount,
        currency="CNY",
        return_url=RETURN,
        terms=TERMS,
        now=NOW,
    )
    services.approve(session, shop_id=world.shop_id, object_id=charge.id, user_id=world.owner_id, terms=TERMS, now=NOW)
    session.commit()
    return charge.id


def _refund(client, charge_id, headers, **body):
    return client.post(f"/api/v1/billing/charges/{charge_id}/refunds", json=body, headers=headers)


# -- usage -----------------------------------------------------------------------------------------------------


def test_usage_is_charged_at_once_up_to_the_cap_and_no_further(client, session, world):
    subscribe(session, world, "metered")
    before = shop_balance(session, world.shop_id)
    first = _usage(client, world, 30_000, "sms-1")
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["kind"], first.get_json()["amount"], first.get_json()["status"]) == (
        "usage",
        30_000,
        "succeeded",
    )
    assert shop_balance(session, world.shop_id) == before - 30_000
    over = _usage(client, world, 20_001, "sms-2")
    assert over.status_code == 409
    problem = over.get_json()
    assert problem["type"].endswith("/usage-cap-exceeded")
    assert (problem["cap"], problem["used"], problem["remaining"]) == (50_000, 30_000, 20_000)
    assert "¥200.00" in problem["detail"]
    exactly = _usage(client, world, 20_000, "sms-3")
    assert exactly.status_code == 201
    assert _usage(client, world, 1, "sms-4").status_code == 409
    assert shop_balance(session, world.shop_id) == before - 50_000


def test_a_repeated_idempotency_key_charges_once(client, session, world):
    subscribe(session, world, "metered")
    before = shop_balance(session, world.shop_id)
    first = _usage(client, world, 700, "batch-42")
    again = _usage(client, world, 700, "batch-42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert shop_balance(session, world.shop_id) == before - 700
    different = _usage(client, world, 900, "batch-42")
    assert different.status_code == 422 and different.get_json()["type"].endswith("/usage-idempotency-reused")
    assert _usage(client, world, 0, "zero").status_code == 422
    assert _usage(client, world, 1.5, "float").status_code == 422
    assert client.post("/api/v1/billing/usage-records", json={"amount": 5}, headers=world.headers).status_code == 422


def test_usage_needs_a_live_usage_plan_and_resets_each_period(app, client, session, world, clock):
    refused = _usage(client, world, 100, "early")
    assert refused.status_code == 409 and refused.get_json()["type"].endswith("/no-usage-subscription")
    sub_id = subscribe(session, world, "metered").id
    assert _usage(client, world, 50_000, "month-1").status_code == 201
    clock.advance(days=31, minutes=1)
    with app.app_context():
        assert bill_subscriptions() == {"renewed": 1}
    assert services.get_subscription(session, shop_id=world.shop_id, subscription_id=sub_id).usage_used == 0
    assert _usage(client, world, 40_000, "month-2").status_code == 201  # a new period, a fresh cap


def test_usage_the_shop_cannot_pay_is_refused_and_not_counted(client, session, world):
    sub_id = subscribe(session, world, "metered").id
    spend = shop_balance(session, world.shop_id) - 10
    _paid_charge(session, world, amount=spend)
    short = _usage(client, world, 20, "short")
    assert short.status_code == 409 and short.get_json()["type"].endswith("/insufficient-shop-balance")
    assert services.get_subscription(session, shop_id=world.shop_id, subscription_id=sub_id).usage_used == 0
    assert shop_balance(session, world.shop_id) == 10


# -- one-time charges ----------------------------------------------------------------------------------------


def test_a_one_time_charge_waits_for_approval_then_pays(client, session, world):
    response = client.post(
        "/api/v1/billing/one-time-charges",
        json={"name": "Store setup", "amount": 30_000, "currency": "CNY", "return_url": RETURN},
        headers=world.headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending" and body["confirmation_url"].endswith(body["id"])
    assert shop_balance(session, world.shop_id) == 100_000
    services.approve(session, shop_id=world.shop_id, object_id=body["id"], user_id=world.owner_id, terms=TERMS, now=NOW)
    session.commit()
    read = client.get(f"/api/v1/billing/charges/{body['id']}", headers=world.headers).get_json()
    assert (read["status"], read["confirmation_url"], read["refunds"]) == ("succeeded", None, [])
    assert shop_balance(session, world.shop_id) == 70_000 and earnings(session, world.developer_id) == (24_000, 0)
    [succeeded] = events(session, world.shop_id, "charge.")
    assert succeeded.type == "charge.succeeded" and succeeded.payload["amount"] == 30_000


def test_one_time_charges_refuse_bad_money(client, world):
    for body in (
        {"name": "x", "amount": -5, "currency": "CNY", "return_url": RETURN},
        {"name": "x", "amount": "100", "currency": "CNY", "return_url": RETURN},
        {"name": "x", "amount": 100, "currency": "XYZ", "return_url": RETURN},
        {"name": "x", "amount": 100, "currency": "USD", "return_url": RETURN},  # the shop pays in CNY
        {"name": "", "amount": 100, "currency": "CNY", "return_url": RETURN},
        {"name": "x", "amount": 100, "currency": "CNY", "return_url": "javascript:alert(1)"},
    ):
        response = client.post("/api/v1/billing/one-time-charges", json=body, headers=world.headers)
        assert response.status_code == 422, body
        assert response.headers["Content-Type"] == "application/problem+json"


# -- refunds ----------------------------------------------------------------------------------------------------


def test_partial_refunds_reverse_the_fee_in_proportion_and_a_full_refund_returns_it_all(client, session, world):
    charge_id = _paid_charge(session, world, amount=10_001)  # fee 2000 (2000.2 rounds down), developer 8001
    fees_before = fees(session)
    first = _refund(client, charge_id, world.headers, amount=3333, reason="Two days down")
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["amount"], first.get_json()["kind"]) == (3333, "refund")
    refund = session.get(ChargeRefund, first.get_json()["id"])
    assert refund.fee_reversed == 667  # 2000 × 3333 / 10001 = 666.5… → 667
    too_much = _refund(client, charge_id, world.headers, amount=6669, reason="More")
    assert too_much.status_code == 422 and too_much.get_json()["type"].endswith("/over-refund")
    assert "¥66.68" in too_much.get_json()["detail"]
    rest = _refund(client, charge_id, world.headers, reason="Cancelled the job")  # no amount: everything left
    assert rest.status_code == 201 and rest.get_json()["amount"] == 6668
    assert fees(session) == fees_before - 2000
    assert earnings(session, world.developer_id) == (0, 0)
    assert shop_balance(session, world.shop_id) == 100_000
    charge = client.get(f"/api/v1/billing/charges/{charge_id}", headers=world.headers).get_json()
    assert charge["refunded"] == 10_001 and len(charge["refunds"]) == 2
    assert [e.type for e in events(session, world.shop_id, "charge.")] == [
        "charge.succeeded",
        "charge.refunded",
        "charge.refunded",
    ]
    assert _refund(client, charge_id, world.headers, amount=1, reason="again").status_code == 422


def test_refunds_take_held_earnings_first_then_available(app, session, world, clock):
    old_id = _paid_charge(session, world, amount=10_000)  # developer 8000 held
    clock.advance(days=7, minutes=1)
    with app.app_context():
        assert release_earnings() == 1
    assert earnings(session, world.developer_id) == (0, 8000)
    new_id = _paid_charge(session, world, amount=5000)  # 4000 held, inside its hold
    services.refund_charge(
        session,
        charge=services.get_charge(session, charge_id=old_id),
        amount=10_000,
        reason="Refund the first job",
        created_by=world.developer_id,
        now=clock.now(),
    )
    session.commit()
    # 8000 comes back from the developer: the 4000 still held (of the newer charge) first, then 4000 available.
    assert earnings(session, world.developer_id) == (0, 4000)
    newer = services.get_charge(session, charge_id=new_id)
    assert newer.held_amount == 0
    clock.advance(days=8)
    with app.app_context():
        assert release_earnings() == 1  # the newer charge's hold ends with nothing left to move
    assert earnings(session, world.developer_id) == (0, 4000)


def test_a_refund_the_developer_cannot_cover_is_409_and_moves_nothing(app, session, world, clock):
    charge_id = _paid_charge(session, world, amount=20_000)
    clock.advance(days=8)
    with app.app_context():
        release_earnings()
    services.pay_out(
        session, developer_id=world.developer_id, currency="CNY", trigger="request", minimum=1, now=clock.now()
    )
    session.commit()
    try:
        services.refund_charge(
            session,
            charge=services.get_charge(session, charge_id=charge_id),
            amount=5000,
            reason="late",
            created_by="app",
            now=clock.now(),
        )
    except services.errors.DeveloperBalanceTooLow as exc:
        assert exc.status == 409
        session.rollback()
    else:
        raise AssertionError("refunded money the developer no longer has")
    assert services.get_charge(session, charge_id=charge_id).refunded == 0
    assert shop_balance(session, world.shop_id) == 80_000


def test_who_may_refund_a_charge(client, session, world, clock):
    charge_id = _paid_charge(session, world)
    shop = session.get(Shop, world.shop_id)
    staff = _refund(client, charge_id, token_for(shop), amount=100, reason="x")
    assert staff.status_code == 403 and staff.get_json()["type"].endswith("/not-the-apps-charge")
    other_shop = _refund(client, charge_id, token_for(ShopFactory()), amount=100, reason="x")
    assert other_shop.status_code == 403  # no staff token may refund: refused before the charge is looked up
    # Another app installed on the same shop cannot see it either.
    rival_dev = make_developer(session, "rival@example.com")
    rival, _, _ = register_app(
        session,
        developer=rival_dev,
        manifest_text="name: Rival\nredirect_uris: [https://rival.example.com/cb]\nscopes: [read_products]\n",
    )
    session.commit()
    rival_id, shop = rival.id, session.get(Shop, world.shop_id)
    _, rival_headers = install(session, shop=shop, owner=session.get(User, world.owner_id), app=rival)
    assert _refund(client, charge_id, rival_headers, amount=100, reason="x").status_code == 404
    assert client.get(f"/api/v1/billing/charges/{charge_id}", headers=rival_headers).status_code == 404
    # The app's own client-credentials token may refund, and a retried Idempotency-Key refunds once.
    _, app_token = issue_app_token(session, app_id=world.app_id, now=clock.now())
    session.commit()
    headers = {"Authorization": f"Bearer {app_token}", "Idempotency-Key": "refund-1"}
    first = _refund(client, charge_id, headers, amount=100, reason="Sorry")
    again = _refund(client, charge_id, headers, amount=100, reason="Sorry")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert services.get_charge(session, charge_id=charge_id).refunded == 100
    _, rival_token = issue_app_token(session, app_id=rival_id, now=clock.now())
    session.commit()
    assert _refund(client, charge_id, {"Authorization": f"Bearer {rival_token}"}, reason="x").status_code == 404
    assert _refund(client, charge_id, {"Authorization": "Bearer souk_apt_nope"}, reason="x").status_code == 401


def test_a_pending_charge_cannot_be_refunded(client, session, world):
    response = client.post(
        "/api/v1/billing/one-time-charges",
        json={"name": "Setup", "amount": 500, "currency": "CNY", "return_url": RETURN},
        headers=world.headers,
    )
    charge_id = response.get_json()["id"]
    refused = _refund(client, charge_id, world.headers, amount=100, reason="x")
    assert refused.status_code == 409 and refused.get_json()["type"].endswith("/charge-not-refundable")


def test_the_shop_reads_charges_but_an_app_sees_only_its_own(client, session, world):
    _paid_charge(session, world)
    shop = session.get(Shop, world.shop_id)
    staff = client.get("/api/v1/billing/charges", headers=token_for(shop, ["read_billing"])).get_json()
    assert [c["kind"] for c in staff["items"]] == ["one_time"]
    assert client.get("/api/v1/billing/charges", headers=token_for(shop, ["read_orders"])).status_code == 403
    rival_dev = make_developer(session, "rival@example.com")
    rival, _, _ = register_app(
        session,
        developer=rival_dev,
        manifest_text="name: Rival\nredirect_uris: [https://rival.example.com/cb]\nscopes: [read_products]\n",
    )
    session.commit()
    installation, _ = install(session, shop=shop, owner=session.get(User, world.owner_id), app=rival)
    # An installation token that carries read_billing (the merchant granted it to the rival app).
    _, token = create_access_token(
        session,
        shop_id=world.shop_id,
        name="rival",
        scopes=["read_billing"],
        created_by=None,
        installation_id=installation.id,
    )
    session.commit()
    rival_view = client.get("/api/v1/billing/charges", headers={"Authorization": f"Bearer {token}"})
    assert rival_view.status_code == 200 and rival_view.get_json()["items"] == []
    invoices = client.get("/api/v1/billing/invoices", headers={"Authorization": f"Bearer {token}"})
    assert invoices.status_code == 403 and invoices.get_json()["type"].endswith("/staff-token-required")

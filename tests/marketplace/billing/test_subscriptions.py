"""Subscriptions: the app asks, the merchant approves or declines, trials, renewals, freezing, proration."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from marketplace.billing.builders import NOW, RETURN, TERMS, earnings, events, fees, fund, shop_balance, subscribe

from factories import ShopFactory, token_for
from souk_marketplace.billing import services
from souk_marketplace.billing.models import AppCharge, AppSubscription
from souk_marketplace.billing.tasks import bill_subscriptions
from souk_platform.installations.services import uninstall
from souk_platform.shops.models import Shop


def _ask(client, world, plan_id, **extra):
    return client.post(
        "/api/v1/billing/subscriptions", json={"plan_id": plan_id, "return_url": RETURN, **extra}, headers=world.headers
    )


def _status(client, world):
    response = client.get("/api/v1/billing/subscription", headers=world.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_app_asks_for_a_plan_and_gets_a_confirmation_page(client, session, world):
    assert _status(client, world) == {"status": "none", "limited": True, "subscription": None, "pending": None}
    response = _ask(client, world, "basic")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending" and body["price"] == 9900 and body["currency"] == "CNY"
    assert body["confirmation_url"].endswith(f"/shops/{world.shop_id}/billing/approve/{body['id']}")
    status = _status(client, world)
    assert (status["status"], status["limited"], status["subscription"]["id"]) == ("pending", True, body["id"])
    [created] = events(session, world.shop_id, "app.subscription")
    assert created.type == "app.subscription.created"
    assert (created.subject_type, created.subject_id) == ("installation", world.installation_id)
    assert created.payload["plan_id"] == "basic" and created.payload["version"] == 1
    assert shop_balance(session, world.shop_id) == 100_000  # nothing moves before the merchant approves


def test_only_the_apps_installation_token_may_ask(client, session, world):
    staff = token_for(session.get(Shop, world.shop_id))
    for path, body in (
        ("/api/v1/billing/subscriptions", {"plan_id": "basic", "return_url": RETURN}),
        ("/api/v1/billing/one-time-charges", {"name": "Setup", "amount": 100, "currency": "CNY", "return_url": RETURN}),
        ("/api/v1/billing/usage-records", {"description": "1 SMS", "amount": 5, "idempotency": "k"}),
    ):
        response = client.post(path, json=body, headers=staff)
        assert response.status_code == 403, response.get_json()
        problem = response.get_json()
        assert problem["type"].endswith("/installation-token-required") and "staff token" in problem["detail"]
    assert client.get("/api/v1/billing/subscription", headers=staff).status_code == 403
    assert (
        client.post("/api/v1/billing/subscriptions", json={}, headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )
    assert session.scalar(sa.select(sa.func.count()).where(AppSubscription.shop_id == world.shop_id)) == 0


def test_bad_requests_are_clear_422s_and_change_nothing(client, session, world):
    unknown = _ask(client, world, "platinum")
    assert unknown.status_code == 422
    assert unknown.get_json()["type"].endswith("/unknown-plan")
    assert "basic" in unknown.get_json()["errors"]["plan_id"][0]  # the plans it does have
    one_time = _ask(client, world, "setup")
    assert one_time.status_code == 422 and "one-time charge" in one_time.get_json()["detail"]
    dollars = _ask(client, world, "dollars")
    assert dollars.status_code == 422 and "CNY" in dollars.get_json()["detail"]
    for url in ("javascript:alert(1)", "/relative", "ftp://x.example.com", "https://u:p@x.example.com/", "https://"):
        bad = client.post(
            "/api/v1/billing/subscriptions", json={"plan_id": "basic", "return_url": url}, headers=world.headers
        )
        assert bad.status_code == 422, url
        assert "return_url" in bad.get_json()["errors"], url
    extra = _ask(client, world, "basic", price=1)
    assert extra.status_code == 422 and "price" in extra.get_json()["errors"]
    assert session.scalar(sa.select(sa.func.count()).where(AppSubscription.shop_id == world.shop_id)) == 0


def test_approval_charges_the_shop_and_splits_the_fee(session, world):
    sub = subscribe(session, world, "basic")
    assert sub.status == "active"
    assert (sub.current_period_start, sub.current_period_end) == (NOW, dt.datetime(2026, 4, 2, 10, tzinfo=dt.UTC))
    assert shop_balance(session, world.shop_id) == 100_000 - 9900
    assert earnings(session, world.developer_id) == (7920, 0)  # 9900 less the 20 % fee, held for 7 days
    assert fees(session) >= 1980
    [charge] = session.scalars(sa.select(AppCharge).where(AppCharge.subscription_id == sub.id))
    assert (charge.kind, charge.amount, charge.fee, charge.status) == ("recurring", 9900, 1980, "succeeded")
    types = [
        e.type for e in events(session, world.shop_id, "app.subscription") + events(session, world.shop_id, "charge")
    ]
    assert types == ["app.subscription.created", "app.subscription.updated", "charge.succeeded"]


def test_the_fee_rounds_half_up_and_the_parts_sum_exactly(session, world):
    assert services.prorate(9900, dt.timedelta(days=1), dt.timedelta(days=2)) == 4950
    charge = services.create_one_time_charge(
        session,
        shop_id=world.shop_id,
        installation_id=world.installation_id,
        name="Odd amount",
        amount=1234 * 10 + 3,  # 20 % of 12343 is 2468.6 → 2469
        currency="CNY",
        return_url=RETURN,
        terms=TERMS,
        now=NOW,
    )
    services.approve(session, shop_id=world.shop_id, object_id=charge.id, user_id=world.owner_id, terms=TERMS, now=NOW)
    assert (charge.fee, charge.amount - charge.fee) == (2469, 9874)
    assert earnings(session, world.developer_id) == (9874, 0)


def test_a_declined_plan_keeps_the_app_limited(client, session, world):
    sub = subscribe(session, world, "basic", approve=False)
    services.decline(session, shop_id=world.shop_id, object_id=sub.id, user_id=world.owner_id, now=NOW)
    session.commit()
    status = _status(client, world)
    assert (status["status"], status["limited"]) == ("declined", True)
    assert shop_balance(session, world.shop_id) == 100_000
    again = client.post(f"/api/v1/billing/subscriptions/{sub.id}/cancel", headers=world.headers)
    assert again.status_code == 409 and again.get_json()["type"].endswith("/subscription-not-changeable")


def test_deciding_twice_is_409_and_charges_once(session, world):
    sub = subscribe(session, world, "basic")
    for decide in (services.approve, services.decline):
        kwargs = {"terms": TERMS} if decide is services.approve else {}
        try:
            decide(session, shop_id=world.shop_id, object_id=sub.id, user_id=world.owner_id, now=NOW, **kwargs)
        except services.errors.NotPending as exc:
            assert exc.status == 409
        else:
            raise AssertionError("a decided subscription was decided again")
    assert shop_balance(session, world.shop_id) == 100_000 - 9900


def test_a_trial_charges_nothing_then_the_job_bills_when_it_ends(app, client, session, world, clock):
    sub = subscribe(session, world, "trial")
    sub_id = sub.id
    assert (sub.status, sub.trial_ends_at) == ("trial", NOW + dt.timedelta(days=14))
    assert _status(client, world)["limited"] is False
    assert shop_balance(session, world.shop_id) == 100_000
    clock.advance(days=13)
    with app.app_context():
        assert bill_subscriptions() == {}
    clock.advance(days=1, hours=1)
    with app.app_context():
        assert bill_subscriptions() == {"renewed": 1}
        assert bill_subscriptions() == {}  # run again: nothing more is charged
    sub = session.get(AppSubscription, sub_id)
    assert sub.status == "active" and sub.current_period_start == NOW + dt.timedelta(days=14)
    assert sub.current_period_end == dt.datetime(2026, 4, 16, 10, tzinfo=dt.UTC)
    assert shop_balance(session, world.shop_id) == 100_000 - 5000


def test_a_trial_is_given_once_per_shop(session, world):
    first = subscribe(session, world, "trial")
    services.cancel_subscription(session, shop_id=world.shop_id, subscription_id=first.id, app_id=None, now=NOW)
    again = subscribe(session, world, "trial")
    assert again.status == "active" and again.trial_ends_at is None
    assert shop_balance(session, world.shop_id) == 100_000 - 5000


def test_a_failed_renewal_freezes_and_a_later_retry_thaws(app, client, session, world, clock):
    sub_id = subscribe(session, world, "pro").id
    spend = shop_balance(session, world.shop_id) - 100  # the merchant's balance drops below the next period's price
    services.create_one_time_charge(
        session,
        shop_id=world.shop_id,
        installation_id=world.installation_id,
        name="Big job",
        amount=spend,
        currency="CNY",
        return_url=RETURN,
        terms=TERMS,
        now=NOW,
    )
    pending = session.scalar(sa.select(AppCharge).where(AppCharge.kind == "one_time"))
    services.approve(session, shop_id=world.shop_id, object_id=pending.id, user_id=world.owner_id, terms=TERMS, now=NOW)
    session.commit()
    clock.advance(days=31, minutes=1)
    with app.app_context():
        assert bill_subscriptions() == {"frozen": 1}
    status = _status(client, world)
    assert (status["status"], status["limited"]) == ("frozen", True)
    assert shop_balance(session, world.shop_id) == 100
    assert [e.type for e in events(session, world.shop_id, "app.subscription")][-1] == "app.subscription.updated"
    with app.app_context():
        assert bill_subscriptions() == {}  # not retried before a day has passed
    fund(session, world.shop_id, 50_000)
    clock.advance(days=1)
    with app.app_context():
        assert bill_subscriptions() == {"renewed": 1}
    sub = session.get(AppSubscription, sub_id)
    assert sub.status == "active" and sub.current_period_start == clock.now()
    assert shop_balance(session, world.shop_id) == 100 + 50_000 - 19900
    assert _status(client, world)["status"] == "active"


def test_an_uninstalled_apps_subscription_ends_at_renewal(app, session, world, clock):
    sub_id = subscribe(session, world, "basic").id
    uninstall(session, shop_id=world.shop_id, installation_id=world.installation_id, now=NOW)
    session.commit()
    clock.advance(days=32)
    with app.app_context():
        assert bill_subscriptions() == {"cancelled": 1}
    assert (
        session.get(AppSubscription, sub_id).status == "cancelled"
        and shop_balance(session, world.shop_id) == 100_000 - 9900
    )


def test_an_upgrade_half_way_credits_the_unused_half_and_charges_half_the_new_plan(session, world, clock):
    basic = subscribe(session, world, "basic")
    half = (basic.current_period_end - basic.current_period_start) / 2  # 15.5 days of a 31-day March
    later = NOW + half
    pro = subscribe(session, world, "pro", approve=False, now=later)
    assert (pro.status, pro.replaces_id) == ("pending", basic.id)
    services.approve(session, shop_id=world.shop_id, object_id=pro.id, user_id=world.owner_id, terms=TERMS, now=later)
    session.commit()
    assert (basic.status, pro.status) == ("replaced", "active")
    assert (pro.current_period_start, pro.current_period_end) == (basic.current_period_start, basic.current_period_end)
    charges = {c.kind: c for c in session.scalars(sa.select(AppCharge).where(AppCharge.shop_id == world.shop_id))}
    assert charges["proration"].amount == 9950  # half of 19900
    assert charges["recurring"].refunded == 4950  # half of 9900 back
    assert shop_balance(session, world.shop_id) == 100_000 - 9900 - 9950 + 4950
    held, available = earnings(session, world.developer_id)
    assert (held, available) == (7920 + 7960 - 3960, 0)  # each side keeps 80 %, the fee is refunded in step


def test_switching_to_a_yearly_plan_starts_a_new_year_and_credits_the_month(session, world):
    fund(session, world.shop_id, 100_000)
    basic = subscribe(session, world, "basic")
    later = NOW + dt.timedelta(days=10)
    yearly = subscribe(session, world, "yearly", now=later)
    assert yearly.current_period_start == later and yearly.current_period_end == later.replace(year=2027)
    credit = services.prorate(9900, basic.current_period_end - later, basic.current_period_end - NOW)
    assert shop_balance(session, world.shop_id) == 200_000 - 9900 - 99000 + credit


def test_a_plan_change_during_the_trial_keeps_the_trial(session, world):
    trial = subscribe(session, world, "trial")
    basic = subscribe(session, world, "basic", now=NOW + dt.timedelta(days=3))
    assert (trial.status, basic.status, basic.trial_ends_at) == ("replaced", "trial", trial.trial_ends_at)
    assert shop_balance(session, world.shop_id) == 100_000


def test_asking_for_the_current_plan_is_409_and_a_newer_request_replaces_the_older(client, session, world):
    subscribe(session, world, "basic")
    again = _ask(client, world, "basic")
    assert again.status_code == 409 and again.get_json()["type"].endswith("/already-on-plan")
    first = _ask(client, world, "pro").get_json()
    second = _ask(client, world, "yearly").get_json()
    status = _status(client, world)
    assert (status["status"], status["pending"]["id"]) == ("active", second["id"])
    assert session.get(AppSubscription, first["id"]).status == "replaced"


def test_free_plans_need_no_approval(client, session, world):
    response = _ask(client, world, "free")
    assert response.status_code == 201
    assert (response.get_json()["status"], response.get_json()["confirmation_url"]) == ("active", None)
    assert shop_balance(session, world.shop_id) == 100_000


def test_the_app_cancels_its_own_and_the_merchant_needs_write_billing(client, session, world):
    sub_id = subscribe(session, world, "basic").id
    reader = token_for(session.get(Shop, world.shop_id), ["read_billing"])
    refused = client.post(f"/api/v1/billing/subscriptions/{sub_id}/cancel", headers=reader)
    assert refused.status_code == 403 and refused.get_json()["type"].endswith("/insufficient-scope")
    other_shop = client.post(f"/api/v1/billing/subscriptions/{sub_id}/cancel", headers=token_for(ShopFactory()))
    assert other_shop.status_code == 404
    done = client.post(f"/api/v1/billing/subscriptions/{sub_id}/cancel", headers=world.headers)
    assert done.status_code == 200 and done.get_json()["status"] == "cancelled"
    assert _status(client, world)["status"] == "cancelled"
    assert [e.type for e in events(session, world.shop_id, "app.subscription")][-1] == "app.subscription.cancelled"
    assert (
        client.post(
            f"/api/v1/billing/subscriptions/{sub_id}/cancel", headers=token_for(session.get(Shop, world.shop_id))
        ).status_code
        == 409
    )

"""Developer payouts after the hold, monthly invoices in the shop's timezone, free access for backers,
and billing events reaching the app's own webhook endpoints only."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import current_app
from marketplace.billing.builders import NOW, RETURN, TERMS, earnings, install, make_developer, shop_balance, subscribe

from souk_marketplace.billing import services
from souk_marketplace.billing.models import AppCharge, AppSubscription, Invoice, Payout
from souk_marketplace.billing.tasks import bill_subscriptions, issue_invoices, pay_out_developers, release_earnings
from souk_marketplace.settings import settings_from_env
from souk_platform.apps.services import register_app
from souk_platform.auth.models import User
from souk_platform.core.clock import FrozenClock
from souk_platform.ledger.services import PLATFORM, balance_of
from souk_platform.shops.models import Shop
from souk_platform.webhooks.models import WebhookDelivery
from souk_platform.webhooks.runtime import runtime_for
from souk_platform.webhooks.services import create_subscription, dispatch_outbox


def _charge(session, world, amount, *, now=NOW, name="Store setup"):
    charge = services.create_one_time_charge(
        session,
        shop_id=world.shop_id,
        installation_id=world.installation_id,
        name=name,
        amount=amount,
        currency="CNY",
        return_url=RETURN,
        terms=TERMS,
        now=now,
    )
    services.approve(session, shop_id=world.shop_id, object_id=charge.id, user_id=world.owner_id, terms=TERMS, now=now)
    session.commit()
    return charge.id


# -- payouts --------------------------------------------------------------------------------------------------


def _payouts(session, developer_id):
    return list(session.scalars(sa.select(Payout).where(Payout.developer_id == developer_id)))


def test_earnings_are_held_seven_days_then_paid_out_weekly(app, session, world, clock):
    _charge(session, world, 20_000)  # developer 16000 held
    clock.advance(days=6)
    with app.app_context():
        release_earnings()
        pay_out_developers()
    assert earnings(session, world.developer_id) == (16_000, 0) and _payouts(session, world.developer_id) == []
    clock.advance(days=1)
    with app.app_context():
        release_earnings()
        release_earnings()  # a second run moves nothing more
        pay_out_developers()
        pay_out_developers()  # at most one scheduled payout a week
    [payout] = _payouts(session, world.developer_id)
    assert (payout.amount, payout.status, payout.trigger) == (16_000, "paid", "schedule")
    assert payout.reference.startswith("SOUK-")
    assert earnings(session, world.developer_id) == (0, 0)
    clearing = balance_of(session, shop_id=PLATFORM, kind="platform.payouts_clearing", owner_id=PLATFORM, unit="CNY")
    assert clearing >= 16_000


def test_payouts_start_at_the_minimum(app, session, world, clock):
    _charge(session, world, 10_000)  # developer 8000: below the ¥100 minimum
    clock.advance(days=8)
    with app.app_context():
        release_earnings()
        pay_out_developers()
    assert _payouts(session, world.developer_id) == []
    with pytest.raises(services.errors.PayoutBelowMinimum) as refused:
        services.pay_out(
            session,
            developer_id=world.developer_id,
            currency="CNY",
            trigger="request",
            minimum=TERMS.payout_minimum,
            now=clock.now(),
        )
    assert refused.value.status == 409 and "¥100.00" in refused.value.detail
    session.rollback()
    assert earnings(session, world.developer_id) == (0, 8000)


def test_the_fee_and_hold_come_from_settings():
    assert settings_from_env({}) == {
        "SOUK_MARKETPLACE_FEE_BPS": 2000,
        "SOUK_PAYOUT_HOLD_DAYS": 7,
        "SOUK_PAYOUT_MINIMUM": 10_000,
        "SOUK_REQUIREMENT_VOTE_DAYS": 7,
    }
    assert settings_from_env({"SOUK_REQUIREMENT_VOTE_DAYS": "3"})["SOUK_REQUIREMENT_VOTE_DAYS"] == 3
    read = settings_from_env({"SOUK_MARKETPLACE_FEE_BPS": "1500", "SOUK_PAYOUT_HOLD_DAYS": "0"})
    assert services.terms_from_config(read) == services.BillingTerms(fee_bps=1500, hold_days=0, payout_minimum=10_000)
    for bad in (
        {"SOUK_MARKETPLACE_FEE_BPS": "20%"},
        {"SOUK_MARKETPLACE_FEE_BPS": "10001"},
        {"SOUK_PAYOUT_HOLD_DAYS": "-1"},
        {"SOUK_REQUIREMENT_VOTE_DAYS": "0"},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            settings_from_env(bad)


def test_a_lower_fee_setting_gives_the_developer_more(app, session, world):
    app.config["SOUK_MARKETPLACE_FEE_BPS"] = 1000
    try:
        terms = services.terms_from_config(current_app.config)
        charge = services.create_one_time_charge(
            session,
            shop_id=world.shop_id,
            installation_id=world.installation_id,
            name="Setup",
            amount=10_000,
            currency="CNY",
            return_url=RETURN,
            terms=terms,
            now=NOW,
        )
        services.approve(
            session, shop_id=world.shop_id, object_id=charge.id, user_id=world.owner_id, terms=terms, now=NOW
        )
    finally:
        app.config["SOUK_MARKETPLACE_FEE_BPS"] = 2000
    assert (charge.fee, earnings(session, world.developer_id)) == (1000, (9000, 0))


# -- invoices ------------------------------------------------------------------------------------------------


def test_the_monthly_invoice_follows_the_shops_timezone(app, session, world, clock):
    # Shanghai is UTC+8: 2026-03-31 17:00 UTC is already 1 April there.
    march_id = _charge(session, world, 10_000, now=dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC), name="March job")
    april_id = _charge(session, world, 20_000, now=dt.datetime(2026, 3, 31, 17, tzinfo=dt.UTC), name="April job")
    services.refund_charge(
        session,
        charge=services.get_charge(session, charge_id=march_id),
        amount=2500,
        reason="Partly undone",
        created_by="app",
        now=dt.datetime(2026, 3, 20, tzinfo=dt.UTC),
    )
    session.commit()
    with pytest.raises(services.errors.MonthNotOver):
        services.issue_invoice(
            session, shop_id=world.shop_id, year=2026, month=3, now=dt.datetime(2026, 3, 31, 15, tzinfo=dt.UTC)
        )
    clock.at = dt.datetime(2026, 4, 1, 2, tzinfo=dt.UTC)  # 10:00 on 1 April in Shanghai
    with app.app_context():
        issued = issue_invoices()
        again = issue_invoices()  # issued once
    march = session.scalar(sa.select(Invoice).where(Invoice.shop_id == world.shop_id))
    assert march.id in issued and march.id not in again
    assert (march.month, march.number, march.sequence) == ("2026-03", "202603-0001", 1)
    assert [(line["type"], line["amount"]) for line in march.lines] == [("charge", 10_000), ("refund", -2500)]
    assert march.totals == [{"currency": "CNY", "charged": 10_000, "refunded": 2500, "net": 7500}]
    assert april_id not in str(march.lines)
    clock.at = dt.datetime(2026, 5, 1, 2, tzinfo=dt.UTC)
    with app.app_context():
        issue_invoices()
    april = session.scalar(sa.select(Invoice).where(Invoice.shop_id == world.shop_id, Invoice.month == "2026-04"))
    assert (april.number, april.totals[0]["net"]) == ("202604-0002", 20_000)
    assert april.lines[0]["date"] == "2026-04-01"


def test_a_quiet_month_has_no_invoice(session, world):
    assert services.issue_invoice(session, shop_id=world.shop_id, year=2026, month=1, now=NOW) is None


# -- free for backers ------------------------------------------------------------------------------------------


def test_exempt_shops_get_the_app_for_free(client, session, world):
    pending = services.create_subscription(
        session,
        shop_id=world.shop_id,
        installation_id=world.installation_id,
        plan_id="pro",
        return_url=RETURN,
        terms=TERMS,
        now=NOW,
    )
    pending_id = pending.id
    session.commit()
    exemptions = services.exempt_shops(
        session, app_id=world.app_id, shop_ids=[world.shop_id, world.shop_id], reason="free for backers", now=NOW
    )
    assert [e.shop_id for e in exemptions] == [world.shop_id]
    session.commit()
    sub = session.get(AppSubscription, pending_id)
    assert (sub.status, sub.price, sub.list_price, sub.free_reason) == ("active", 0, 19900, "free for backers")
    assert shop_balance(session, world.shop_id) == 100_000
    later = client.post(
        "/api/v1/billing/one-time-charges",
        json={"name": "Setup", "amount": 30_000, "currency": "CNY", "return_url": RETURN},
        headers=world.headers,
    ).get_json()
    assert (later["status"], later["amount"], later["list_price"]) == ("succeeded", 0, 30_000)
    # Calling it again (helper E may) changes nothing.
    services.exempt_shops(session, app_id=world.app_id, shop_ids=[world.shop_id], reason="again", now=NOW)
    assert session.get(AppSubscription, pending_id).free_reason == "free for backers"
    assert shop_balance(session, world.shop_id) == 100_000


def test_a_paying_shop_that_becomes_exempt_pays_nothing_from_the_next_period(app, session, world, clock):
    subscribe(session, world, "basic")
    services.exempt_shops(session, app_id=world.app_id, shop_ids=[world.shop_id], reason="backer", now=NOW)
    session.commit()
    clock.advance(days=32)
    with app.app_context():
        assert bill_subscriptions() == {"renewed": 1}
    assert shop_balance(session, world.shop_id) == 100_000 - 9900
    recurring = session.scalars(sa.select(AppCharge).where(AppCharge.shop_id == world.shop_id)).all()
    assert len(recurring) == 1


# -- events reach the app's own endpoints ------------------------------------------------------------------------


def test_billing_events_go_to_the_apps_own_webhooks_and_not_to_another_apps(session, world, clock):
    shop = session.get(Shop, world.shop_id)
    rival_dev = make_developer(session, "rival@example.com")
    rival, _, _ = register_app(
        session,
        developer=rival_dev,
        manifest_text="name: Rival\nredirect_uris: [https://rival.example.com/cb]\nscopes: [read_products]\n",
    )
    session.commit()
    rival_installation, _ = install(session, shop=shop, owner=session.get(User, world.owner_id), app=rival)
    box = runtime_for(current_app).box
    subs = {}
    for name, installation_id in (("ours", world.installation_id), ("rival", rival_installation.id)):
        subs[name], _ = create_subscription(
            session,
            shop_id=world.shop_id,
            url=f"https://{name}.example.com/hooks",
            topics=["charge.*", "app.subscription.*"],
            installation_id=installation_id,
            granted_scopes=("read_products",),
            box=box,
            clock=FrozenClock(NOW),
        )
    session.commit()
    _charge(session, world, 1000)
    dispatch_outbox(session, clock=clock)
    session.commit()
    delivered = {
        (d.subscription_id, d.event_type)
        for d in session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.shop_id == world.shop_id))
    }
    assert (subs["ours"].id, "charge.succeeded") in delivered
    assert not any(sub_id == subs["rival"].id for sub_id, _ in delivered)

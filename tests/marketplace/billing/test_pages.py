"""The merchant's approval page, Charges page and invoices; the developer's billing, earnings and payout pages."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from marketplace.billing.builders import NOW, PASSWORD, TERMS, earnings, login, make_developer, shop_balance, subscribe

from souk_marketplace.billing import services
from souk_marketplace.billing.models import AppCharge, AppSubscription, Payout
from souk_marketplace.billing.tasks import release_earnings
from souk_platform.auth.services import create_user
from souk_platform.shops.services import add_staff

RETURN = "https://shelf.example.com/billing/done?from=souk"


def _ask(session, world, plan_id):
    return subscribe(session, world, plan_id, approve=False, return_url=RETURN).id


def _one_time(session, world, amount):
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
    session.commit()
    return charge.id


def _page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_approval_page_says_what_the_merchant_agrees_to(client, session, world):
    login(client, "owner@example.com")
    trial = _page(client, f"/shops/{world.shop_id}/billing/approve/{_ask(session, world, 'trial')}")
    assert "Shelf Helper" in trial and "¥50.00 per month" in trial
    assert "14-day free trial" in trial and 'name="approve"' in trial and 'name="decline"' in trial
    metered = _page(client, f"/shops/{world.shop_id}/billing/approve/{_ask(session, world, 'metered')}")
    assert "up to ¥500.00 each month" in metered
    once = _page(client, f"/shops/{world.shop_id}/billing/approve/{_one_time(session, world, 30_000)}")
    assert "Store setup" in once and "¥300.00" in once


def test_approving_pays_and_returns_to_the_app(client, session, world):
    sub_id = _ask(session, world, "basic")
    login(client, "owner@example.com")
    response = client.post(f"/shops/{world.shop_id}/billing/approve/{sub_id}", data={"approve": "Approve"})
    assert response.status_code == 302
    back = urlsplit(response.headers["Location"])
    assert (back.scheme, back.netloc, back.path) == ("https", "shelf.example.com", "/billing/done")
    assert parse_qs(back.query) == {"from": ["souk"], "subscription_id": [sub_id], "status": ["active"]}
    assert shop_balance(session, world.shop_id) == 100_000 - 9900
    # Posting again (a double click) charges nothing more and says it is decided.
    again = client.post(f"/shops/{world.shop_id}/billing/approve/{sub_id}", data={"approve": "Approve"})
    assert again.status_code == 200 and "Active" in again.get_data(as_text=True)
    assert shop_balance(session, world.shop_id) == 100_000 - 9900


def test_declining_returns_to_the_app_with_the_news(client, session, world):
    charge_id = _one_time(session, world, 5000)
    login(client, "owner@example.com")
    response = client.post(f"/shops/{world.shop_id}/billing/approve/{charge_id}", data={"decline": "Decline"})
    assert parse_qs(urlsplit(response.headers["Location"]).query)["status"] == ["declined"]
    assert session.get(AppCharge, charge_id).status == "declined"
    assert shop_balance(session, world.shop_id) == 100_000


def test_a_short_balance_is_explained_on_the_page_and_nothing_moves(client, session, world):
    charge_id = _one_time(session, world, 150_000)
    login(client, "owner@example.com")
    response = client.post(f"/shops/{world.shop_id}/billing/approve/{charge_id}", data={"approve": "Approve"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Your shop balance is ¥1,000.00 but this needs ¥1,500.00. Nothing was charged" in page
    assert session.get(AppCharge, charge_id).status == "pending"
    assert shop_balance(session, world.shop_id) == 100_000 and earnings(session, world.developer_id) == (0, 0)


def test_only_the_shop_owner_sees_the_approval_page(client, session, world):
    sub_id = _ask(session, world, "basic")
    staff = create_user(session, email="staff@example.com", name="Sam", password=PASSWORD)
    add_staff(session, shop_id=world.shop_id, user=staff, role="staff")
    create_user(session, email="stranger@example.com", name="Xu", password=PASSWORD)
    session.commit()
    path = f"/shops/{world.shop_id}/billing/approve/{sub_id}"
    assert client.get(path).status_code == 302  # log in first
    login(client, "staff@example.com")
    assert client.get(path).status_code == 403
    assert client.post(path, data={"approve": "Approve"}).status_code == 403
    client.post("/logout")
    login(client, "stranger@example.com")
    assert client.get(path).status_code == 404
    client.post("/logout")
    login(client, "owner@example.com")
    assert client.get(f"/shops/{world.shop_id}/billing/approve/asub_01m0000000000000000000000").status_code == 404
    assert session.get(AppSubscription, sub_id).status == "pending"


def test_the_approval_form_needs_its_csrf_token(app, client, session, world):
    sub_id = _ask(session, world, "basic")
    login(client, "owner@example.com")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = _page(client, f"/shops/{world.shop_id}/billing/approve/{sub_id}")
        assert 'name="csrf_token"' in page
        forged = client.post(f"/shops/{world.shop_id}/billing/approve/{sub_id}", data={"approve": "Approve"})
        assert forged.status_code in (200, 400)
        assert session.get(AppSubscription, sub_id).status == "pending"
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        signed = client.post(
            f"/shops/{world.shop_id}/billing/approve/{sub_id}", data={"approve": "Approve", "csrf_token": token}
        )
        assert signed.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert session.get(AppSubscription, sub_id).status == "active"


def test_the_charges_page_lists_everything_and_cancels(client, session, world, clock):
    sub_id = _ask(session, world, "basic")
    services.approve(session, shop_id=world.shop_id, object_id=sub_id, user_id=world.owner_id, terms=TERMS, now=NOW)
    pending_id = _one_time(session, world, 2000)
    session.commit()
    login(client, "owner@example.com")
    home = _page(client, "/")
    assert f'href="/shops/{world.shop_id}/billing"' in home  # the "Charges" link next to the shop
    page = _page(client, f"/shops/{world.shop_id}/billing")
    assert "¥99.00 per month" in page and "Store setup" in page
    assert f"/billing/approve/{pending_id}" in page  # a pending charge links to its approval page
    response = client.post(f"/shops/{world.shop_id}/billing/subscriptions/{sub_id}/cancel")
    assert response.status_code == 302
    assert session.get(AppSubscription, sub_id).status == "cancelled"
    assert "The subscription is cancelled" in _page(client, f"/shops/{world.shop_id}/billing")


def test_the_invoice_page_is_printable_and_private(client, session, world):
    charge_id = _one_time(session, world, 12_345)
    services.approve(session, shop_id=world.shop_id, object_id=charge_id, user_id=world.owner_id, terms=TERMS, now=NOW)
    invoice = services.issue_invoice(
        session, shop_id=world.shop_id, year=2026, month=3, now=dt.datetime(2026, 4, 2, tzinfo=dt.UTC)
    )
    session.commit()
    login(client, "owner@example.com")
    page = _page(client, f"/shops/{world.shop_id}/billing/invoices/{invoice.id}")
    assert "Invoice 202603-0001" in page and "¥123.45" in page and "Store setup" in page and "no-print" in page
    assert invoice.number in _page(client, f"/shops/{world.shop_id}/billing")
    assert client.get(f"/shops/{world.shop_id}/billing/invoices/inv_01m0000000000000000000000").status_code == 404


def test_the_developer_refunds_from_the_console_with_errors_next_to_the_field(client, session, world):
    charge_id = _one_time(session, world, 10_000)
    services.approve(session, shop_id=world.shop_id, object_id=charge_id, user_id=world.owner_id, terms=TERMS, now=NOW)
    session.commit()
    login(client, "dev@example.com")
    console = _page(client, f"/developer/apps/{world.app_id}")
    assert f'href="/developer/apps/{world.app_id}/billing"' in console  # the app console's billing tab
    page = _page(client, f"/developer/apps/{world.app_id}/billing")
    assert "Store setup" in page and "¥100.00" in page and "¥20.00" in page  # the amount and the fee
    refund = f"/developer/apps/{world.app_id}/billing/charges/{charge_id}/refund"
    bad = client.post(refund, data={"amount": "12.345", "reason": "x"})
    assert bad.status_code == 422 and "Enter an amount such as 12.50" in bad.get_data(as_text=True)
    over = client.post(refund, data={"amount": "100.01", "reason": "x"})
    assert over.status_code == 422 and "At most ¥100.00 is left to refund." in over.get_data(as_text=True)
    done = client.post(refund, data={"amount": "25.50", "reason": "Late setup"})
    assert done.status_code == 302
    assert session.get(AppCharge, charge_id).refunded == 2550
    assert shop_balance(session, world.shop_id) == 100_000 - 10_000 + 2550


def test_another_developer_gets_404s(client, session, world):
    make_developer(session, "rival@example.com")
    session.commit()
    login(client, "rival@example.com")
    assert client.get(f"/developer/apps/{world.app_id}/billing").status_code == 404
    charge_id = _one_time(session, world, 1000)
    refund = client.post(f"/developer/apps/{world.app_id}/billing/charges/{charge_id}/refund", data={"amount": "1"})
    assert refund.status_code == 404
    assert "No earnings yet." in _page(client, "/developer/earnings")


def test_earnings_and_a_requested_payout(app, client, session, world, clock):
    charge_id = _one_time(session, world, 20_000)
    services.approve(session, shop_id=world.shop_id, object_id=charge_id, user_id=world.owner_id, terms=TERMS, now=NOW)
    session.commit()
    login(client, "dev@example.com")
    page = _page(client, "/developer/earnings")
    assert "¥160.00" in page and "Shelf Helper" in page and "2026-03" in page
    assert "Request payout" not in page  # nothing available yet: all of it is held
    clock.advance(days=7, minutes=1)
    with app.app_context():
        release_earnings()
    page = _page(client, "/developer/earnings")
    assert "Request payout" in page
    response = client.post("/developer/payouts", data={"currency": "CNY"})
    assert response.status_code == 302
    payout = session.scalar(sa.select(Payout).where(Payout.developer_id == world.developer_id))
    assert (payout.amount, payout.trigger) == (16_000, "request")
    history = _page(client, "/developer/payouts")
    assert payout.reference in history and "¥160.00" in history
    again = client.post("/developer/payouts", data={"currency": "CNY"}, follow_redirects=True)
    assert "payouts start at ¥100.00" in again.get_data(as_text=True)

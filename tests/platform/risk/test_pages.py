"""The merchant's risk pages (docs/architecture.md §14): decisions with the rules that fired, the review queue
(approve once), the lists editor and the settings form."""

from __future__ import annotations

import sqlalchemy as sa

from factories import form_key
from souk_platform.auth.services import create_user
from souk_platform.db import db
from souk_platform.orders.models import Order
from souk_platform.risk.models import RiskListEntry, RiskReview
from souk_platform.shops.models import Shop as ShopModel
from souk_platform.shops.services import add_staff, update_shop


def _log_in_owner(client, session, shop):
    owner = create_user(session, email="owner@risk.example", name="Olive", password="correct horse")
    add_staff(session, shop_id=shop.id, user=owner, role="owner")
    session.commit()
    assert client.post("/login", data={"email": "owner@risk.example", "password": "correct horse"}).status_code == 302


def test_a_denied_checkout_shows_on_the_decisions_page_with_its_figures(client, session, shop, buyer):
    update_shop(session, shop_id=shop.id, changes={"settings": {"risk_customer_orders_max": 1}}, expected_version=None)
    session.commit()
    buyer.checkout()
    assert buyer.checkout().status_code == 422
    _log_in_owner(client, session, shop)
    page = client.get(f"/shops/{shop.id}/risk?outcome=deny").get_data(as_text=True)
    assert "Dense buying by one customer" in page and "2 (limit 1) within 60 minutes" in page
    assert page.count('data-outcome="deny"') == 1


def test_approving_a_review_from_the_queue_is_done_once(client, session, shop, buyer):
    update_shop(
        session, shop_id=shop.id, changes={"settings": {"risk_new_account_order_min": 5000}}, expected_version=None
    )
    session.commit()
    order_id = buyer.checkout().get_json()["id"]
    review = session.scalar(sa.select(RiskReview).where(RiskReview.order_id == order_id))
    _log_in_owner(client, session, shop)
    page = client.get(f"/shops/{shop.id}/risk/reviews").get_data(as_text=True)
    assert review.id in page and "New account, high-value order" in page
    detail = client.get(f"/shops/{shop.id}/orders/{order_id}").get_data(as_text=True)
    assert "Held for risk review" in detail and f"/shops/{shop.id}/risk/reviews" in detail
    form = {"verdict": "approve", "note": "熟客", "form_key": form_key()}
    url = f"/shops/{shop.id}/risk/reviews/{review.id}"
    assert client.post(url, data=form).status_code == 302
    assert client.post(url, data=form).status_code == 302  # sent twice: done once, no error
    db.session.expire_all()
    assert db.session.get(Order, order_id).status == "pending_payment"
    assert db.session.get(RiskReview, review.id).status == "approved"


def test_lists_and_settings_pages_change_what_the_api_reads(client, session, shop):
    _log_in_owner(client, session, shop)
    url = f"/shops/{shop.id}/risk/lists"
    r = client.post(url, data={"list": "block", "kind": "ip", "value": "10.2.2.2", "note": "羊毛党"})
    assert r.status_code == 302
    assert client.post(url, data={"list": "block", "kind": "ip", "value": "nope"}).status_code == 200
    entries = list(session.scalars(sa.select(RiskListEntry).where(RiskListEntry.shop_id == shop.id)))
    assert [e.value for e in entries] == ["10.2.2.2"]
    assert "10.2.2.2" in client.get(url).get_data(as_text=True)

    page = client.get(f"/shops/{shop.id}/risk/settings").get_data(as_text=True)
    assert "Many accounts on one device" in page
    form = {
        f"{name}_{part}": value
        for name in (
            "customer_dense_orders",
            "ip_many_customers",
            "customer_many_ips",
            "device_many_customers",
        )
        for part, value in (("threshold", 7), ("window", 30), ("outcome", "review"))
    }
    form |= {
        "new_account_high_value_threshold": "1000.50",
        "new_account_high_value_window": 12,
        "new_account_high_value_outcome": "deny",
        "review_expiry_hours": 8,
        "review_expiry_action": "release",
    }
    assert client.post(f"/shops/{shop.id}/risk/settings", data=form).status_code == 302
    db.session.expire_all()
    settings = db.session.get(ShopModel, shop.id).settings
    assert settings["risk_new_account_order_min"] == 100_050 and settings["risk_new_account_hours"] == 12
    assert settings["risk_ip_customers_outcome"] == "review" and settings["risk_review_expiry_action"] == "release"

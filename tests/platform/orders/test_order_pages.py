"""The shop admin's order pages: a test order through the real checkout, its discounts, and refusals."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory, form_key
from souk_platform.auth.services import create_user
from souk_platform.orders.models import Order
from souk_platform.shops.services import add_staff


def _log_in_owner(client, session, world):
    owner = create_user(session, email="owner@tea.example", name="Olive", password="correct horse")
    add_staff(session, shop_id=world.shop_id, user=owner, role="owner")
    session.commit()
    assert client.post("/login", data={"email": "owner@tea.example", "password": "correct horse"}).status_code == 302


def _order_form(world, *, sku, quantity, coupon="", pay=True):
    form = {
        "customer_id": world.customer_id,
        "coupon_code": coupon,
        "lines-0-sku_id": sku,
        "lines-0-quantity": quantity,
        "form_key": form_key(),
    }
    if pay:
        form["pay"] = "y"
    return form


def test_a_test_order_goes_through_checkout_and_shows_its_discount(client, session, world, coupon):
    _log_in_owner(client, session, world)
    page = client.get(f"/shops/{world.shop_id}/orders/new").get_data(as_text=True)
    assert "Longjing (TEA-250) · ¥50.00" in page

    r = client.post(
        f"/shops/{world.shop_id}/orders/new", data=_order_form(world, sku=world.tea, quantity=2, coupon="tea10")
    )
    assert r.status_code == 302
    order = session.scalars(sa.select(Order).where(Order.shop_id == world.shop_id)).one()
    assert (order.status, order.subtotal, order.discount_total, order.total) == ("paid", 10000, 1000, 9000)

    detail = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Order placed." in detail and "-¥10.00" in detail and "¥90.00" in detail and "TEA10" in detail
    listing = client.get(f"/shops/{world.shop_id}/orders").get_data(as_text=True)
    assert order.id in listing


def test_a_refused_checkout_says_why_and_writes_no_order(client, session, world):
    _log_in_owner(client, session, world)
    r = client.post(f"/shops/{world.shop_id}/orders/new", data=_order_form(world, sku=world.cup, quantity=6))
    assert r.status_code == 200
    assert "The checkout refused this order" in r.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.shop_id == world.shop_id)) == 0


def test_an_empty_order_form_asks_for_a_product(client, session, world):
    _log_in_owner(client, session, world)
    r = client.post(f"/shops/{world.shop_id}/orders/new", data={"customer_id": "", "pay": "y", "form_key": form_key()})
    assert "Choose at least one product." in r.get_data(as_text=True)


def test_another_shops_orders_are_not_found(client, session, world):
    _log_in_owner(client, session, world)
    other = ShopFactory()
    session.commit()
    assert client.get(f"/shops/{other.id}/orders").status_code == 404
    assert client.get(f"/shops/{world.shop_id}/orders/ord_missing").status_code == 404


def _orders(session, shop_id):
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.shop_id == shop_id))


def test_a_form_sent_twice_places_one_order_and_the_repeat_goes_to_it(client, session, world):
    _log_in_owner(client, session, world)
    form = _order_form(world, sku=world.tea, quantity=1)
    first = client.post(f"/shops/{world.shop_id}/orders/new", data=form)
    again = client.post(f"/shops/{world.shop_id}/orders/new", data=form)  # a double click
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert _orders(session, world.shop_id) == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "That form had already been sent: it was done once, not twice." in page

    fresh = client.post(f"/shops/{world.shop_id}/orders/new", data=_order_form(world, sku=world.tea, quantity=1))
    assert fresh.status_code == 302 and _orders(session, world.shop_id) == 2  # a new rendering is a new order


def test_a_refused_sending_does_not_use_up_the_form(client, session, world):
    _log_in_owner(client, session, world)
    form = _order_form(world, sku=world.cup, quantity=6)  # more cups than in stock
    assert client.post(f"/shops/{world.shop_id}/orders/new", data=form).status_code == 200
    corrected = {**form, "lines-0-quantity": 1}  # the same rendering, fixed and sent again
    r = client.post(f"/shops/{world.shop_id}/orders/new", data=corrected)
    assert r.status_code == 302 and "/orders/ord_" in r.headers["Location"]
    assert _orders(session, world.shop_id) == 1


def test_a_form_without_its_key_is_refused_and_places_nothing(client, session, world):
    _log_in_owner(client, session, world)
    form = _order_form(world, sku=world.tea, quantity=1)
    del form["form_key"]
    assert client.post(f"/shops/{world.shop_id}/orders/new", data=form).status_code == 200
    assert _orders(session, world.shop_id) == 0


def test_a_test_order_takes_a_channel_and_its_page_shows_it(client, session, world):
    _log_in_owner(client, session, world)
    form = {**_order_form(world, sku=world.tea, quantity=1), "channel": "store"}
    r = client.post(f"/shops/{world.shop_id}/orders/new", data=form)
    assert r.status_code == 302
    order = session.scalars(sa.select(Order).where(Order.shop_id == world.shop_id)).one()
    assert order.channel == "store"
    detail = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'id="order-channel">Physical store<' in detail
    zh = client.get(r.headers["Location"], headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "下单渠道" in zh and 'id="order-channel">门店<' in zh


def test_an_unknown_channel_in_the_form_is_refused_and_writes_no_order(client, session, world):
    _log_in_owner(client, session, world)
    form = {**_order_form(world, sku=world.tea, quantity=1), "channel": "tv"}
    r = client.post(f"/shops/{world.shop_id}/orders/new", data=form)
    assert r.status_code == 200
    assert session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.shop_id == world.shop_id)) == 0

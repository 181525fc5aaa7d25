"""The dashboard page: the shop's landing page shows today's and the week's figures in yuan, in both languages."""

from __future__ import annotations

import datetime as dt

from factories import ShopFactory, log_in_to_shop
from souk_platform.customers.models import Customer
from souk_platform.orders.models import Order


def test_the_dashboard_shows_sales_new_members_and_levels_and_is_linked_from_home(client, session, clock):
    shop = ShopFactory(timezone="Asia/Shanghai")
    buyer = Customer(shop_id=shop.id, name="王芳", level=2, created_at=clock.now() - dt.timedelta(hours=1))
    session.add(buyer)
    session.flush()
    paid = clock.now() - dt.timedelta(hours=2)
    session.add(
        Order(
            shop_id=shop.id,
            customer_id=buyer.id,
            status="paid",
            currency="CNY",
            subtotal=12_345,
            total=12_345,
            reservation_expires_at=paid,
            created_at=paid,
            paid_at=paid,
        )
    )
    session.commit()
    log_in_to_shop(client, shop.id, role="staff")

    home = client.get("/").get_data(as_text=True)
    assert f'href="/shops/{shop.id}"' in home
    page = client.get(f"/shops/{shop.id}").get_data(as_text=True)
    assert 'id="today-sales"' in page and "¥123.45" in page and "1 paid orders" in page
    assert "V2 · V2" in page
    zh = client.get(f"/shops/{shop.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "今日销售额" in zh and "¥123.45" in zh


def test_another_shops_dashboard_is_not_found(client, session):
    shop, other = ShopFactory(), ShopFactory()
    log_in_to_shop(client, shop.id)
    assert client.get(f"/shops/{other.id}").status_code == 404
    assert client.get("/shops/shp_missing").status_code == 404

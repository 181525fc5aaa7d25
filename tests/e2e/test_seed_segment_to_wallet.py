"""Issue 16's walk, end to end in the browser: the merchant builds the seed's 人群包 —
"过去90天在母婴类目消费2次以上且客单价大于300元" — in the segment builder, saves it, issues it a coupon
from the coupons page, watches the issue finish, and finds the coupon in a member's wallet; a customer on
the boundary (exactly 300 yuan) gets nothing."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from e2e.harness import log_in, new_page
from playwright.sync_api import expect

from souk_platform.catalog.categories import create_category
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.coupons.models import Coupon, CustomerCoupon
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.demo import demo_shop
from souk_platform.orders.services import settle_payment, start_payment
from souk_platform.tags.models import Segment

# name -> list prices (fen) of the paid 母婴 orders each places in the last 90 days. They start at V1 (no
# level discount); an upgrade after a payment takes at most 2% off a later order, which keeps every average
# on the same side of 300 yuan.
BUYERS = {
    "母婴·两单350": [35_000, 35_000],  # in: 2 orders, average 350 yuan
    "母婴·三单400": [40_000, 40_000, 40_000],  # in
    "母婴·两单300": [30_000, 30_000],  # out: average exactly 300 yuan is not more than 300
    "母婴·一单900": [90_000],  # out: one order
}


def _seed_mothers_and_babies(souk) -> str:
    """A 母婴 category with one product per price, and the buyers' paid orders; returns the category id."""
    app = souk.app
    with app.app_context():
        session = db.session
        shop = demo_shop(session)
        now = app.extensions["souk.clock"].now()
        category = create_category(session, shop_id=shop.id, name="母婴")
        skus = {}
        for price in sorted({p for prices in BUYERS.values() for p in prices}):
            product = create_product(
                session,
                shop_id=shop.id,
                title=f"婴儿推车 {price // 100}",
                status="active",
                category_id=category.id,
                skus=[NewSku(code=f"BABY-{price}", title="标准款", price=price, on_hand=100)],
            )
            skus[price] = product.skus[0].id
        for name, prices in BUYERS.items():
            customer = create_customer(session, shop_id=shop.id, name=name, phone=None, email=None)
            for index, price in enumerate(prices):
                at = now - dt.timedelta(days=10 + index)
                cart = create_cart(
                    session,
                    shop_id=shop.id,
                    customer_id=customer.id,
                    lines=[{"sku_id": skus[price], "quantity": 1}],
                    now=at,
                )
                order = checkout(
                    session,
                    shop_id=shop.id,
                    cart_id=cart.id,
                    customer_id=customer.id,
                    ip=None,
                    coupon_codes=[],
                    points_to_spend=0,
                    stored_value_to_spend=0,
                    now=at,
                )
                payment, _ = start_payment(session, shop_id=shop.id, order_id=order.id, now=at)
                settle_payment(
                    session, shop_id=shop.id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=at
                )
        session.commit()
        category_id = category.id
        db.session.remove()
    return category_id


def test_the_seed_segment_gets_a_coupon_that_lands_in_its_members_wallets(souk, browser, shots):
    category = _seed_mothers_and_babies(souk)
    page = new_page(browser, locale="en-US")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.get_by_role("link", name="Segment builder").first.click()

    first = page.locator(".leaf").nth(0)  # the builder opens with "orders count ≥ 1"
    first.locator(".window-days").fill("90")
    first.locator(".category").select_option(category)
    first.locator(".value input").fill("2")
    page.click("button.add-condition")
    second = page.locator(".leaf").nth(1)
    second.locator("select.field").select_option("trade.avg_order_value")
    second.locator(".window-days").fill("90")
    second.locator(".category").select_option(category)
    second.locator("select.cmp").select_option("gt")
    second.locator(".value input").fill("300")
    expect(page.locator("#reach-count")).to_have_text("2")
    page.fill("#segment-name", "母婴高客单")
    page.click("#save")
    expect(page.locator("#saved")).to_have_text("Saved.")
    shots.take(page, "seed-segment-saved")

    page.goto(souk.url + "/")
    page.locator("section.card", has_text="Your shops").get_by_role("link", name="Coupons", exact=True).click()
    page.get_by_role("link", name="New coupon").click()
    page.locator("#name").fill("母婴会员 满500减50")
    page.locator("#code").fill("MUYING50")
    page.locator("#kind").select_option("threshold")
    page.locator("#value").fill("50")
    page.locator("#min_spend").fill("500")
    page.locator("#distribution").select_option("issued")
    page.locator("#valid_days").fill("30")
    page.get_by_role("button", name="Create coupon").click()
    expect(page.get_by_role("status")).to_have_text("Coupon created.")
    page.locator("#segment_id").select_option(label="母婴高客单")
    page.get_by_role("button", name="Issue coupon").click()
    expect(page.locator("#progress")).to_contain_text("Done", timeout=20_000)
    expect(page.locator("#progress .done-count")).to_have_text("2 / 2")
    shots.take(page, "seed-segment-issue-done")

    page.get_by_role("link", name="母婴·两单350").click()
    row = page.locator("section.wallet").locator("tr", has_text="母婴会员 满500减50")
    expect(row).to_contain_text("Usable")
    expect(row).to_contain_text("MUYING50")
    shots.take(page, "seed-segment-wallet")

    with souk.app.app_context():
        coupon = db.session.scalars(sa.select(Coupon).where(Coupon.code == "MUYING50")).one()
        holders = db.session.execute(
            sa.select(CustomerCoupon.customer_id).where(CustomerCoupon.coupon_id == coupon.id)
        ).scalars()
        from souk_platform.customers.models import Customer

        names = set(db.session.scalars(sa.select(Customer.name).where(Customer.id.in_(list(holders)))))
        assert names == {"母婴·两单350", "母婴·三单400"}
        segment = db.session.scalars(sa.select(Segment).where(Segment.name == "母婴高客单")).one()
        params = {"window_days": 90, "category_id": category}
        assert segment.condition == {
            "op": "and",
            "conditions": [
                {"field": "trade.orders_count", "params": params, "cmp": "gte", "value": 2},
                {"field": "trade.avg_order_value", "params": params, "cmp": "gt", "value": 30_000},
            ],
        }
        db.session.remove()

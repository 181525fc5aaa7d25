"""The owner puts a 付费券包 coupon pack on sale in the browser — price typed in yuan, issued coupons and
quantities chosen — sees it listed, takes it off sale, and reads the same list in 简体中文 (§5.9, §14)."""

from __future__ import annotations

import sqlalchemy as sa
from e2e.harness import log_in, new_page
from playwright.sync_api import expect

from souk_platform.coupons.models import Coupon, CouponPack
from souk_platform.db import db
from souk_platform.orders.models import Refund


def test_the_owner_creates_a_coupon_pack_and_sees_it_listed_in_both_languages(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text="Your shops").get_by_role("link", name="Coupons", exact=True).click()
    page.locator("main").get_by_role("link", name="Coupon packs", exact=True).first.click()
    expect(page.locator("h1")).to_contain_text("Coupon packs")
    expect(page.locator("tr", has_text="超值券包")).to_contain_text("¥9.90")  # the demo's pack
    shots.take(page, "packs-en")

    page.get_by_role("link", name="New coupon pack").click()
    page.locator("#name").fill("端午券包")
    page.locator("#price").fill("1e3")
    page.locator("#items-0-coupon_id").select_option(label="券包专享 满50减5 / Pack: ¥5 off ¥50 (PACK5)")
    page.locator("#items-0-quantity").fill("3")
    page.get_by_role("button", name="Create coupon pack").click()
    expect(page.locator(".field-error")).to_contain_text("Enter an amount like 5 or 5.00")
    shots.take(page, "pack-refused")

    page.locator("#price").fill("19.9")
    page.locator("#items-1-coupon_id").select_option(label="会员专享 满199减30 / Members: ¥30 off ¥199 (VIP30)")
    page.locator("#stock").fill("50")
    page.get_by_role("button", name="Create coupon pack").click()
    expect(page.get_by_role("status")).to_have_text("Coupon pack created.")
    row = page.locator("tr", has_text="端午券包")
    expect(row).to_contain_text("¥19.90")
    expect(row).to_contain_text("券包专享 满50减5 / Pack: ¥5 off ¥50 × 3")
    expect(row).to_contain_text("× 1")
    expect(row).to_contain_text("On sale")
    shots.take(page, "pack-created")
    with souk.app.app_context():
        pack = db.session.scalars(sa.select(CouponPack).where(CouponPack.name == "端午券包")).one()
        codes = dict(db.session.execute(sa.select(Coupon.id, Coupon.code)).all())
        assert (pack.price, pack.stock) == (1990, 50)
        assert [(codes[i["coupon_id"]], i["quantity"]) for i in pack.items] == [("PACK5", 3), ("VIP30", 1)]
        db.session.remove()

    row.get_by_role("button", name="Take off sale").click()
    expect(page.locator("tr", has_text="端午券包")).to_contain_text("Not on sale")
    row.get_by_role("link", name="Sales").click()
    expect(page.locator("h1")).to_contain_text("Sales of 端午券包")
    expect(page.locator("main")).to_contain_text("Nobody has bought this pack yet.")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("h1")).to_contain_text("端午券包 的销售记录")
    page.locator("main").get_by_role("link", name="付费券包").first.click()
    expect(page.locator("h1")).to_contain_text("付费券包")
    row = page.locator("tr", has_text="端午券包")
    expect(row).to_contain_text("¥19.90")
    expect(row).to_contain_text("未上架")
    expect(page.locator("tr", has_text="超值券包")).to_contain_text("在售")
    shots.take(page, "packs-zh")


def test_the_owner_refunds_an_unused_pack_from_its_sales_list(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text="Your shops").get_by_role("link", name="Coupons", exact=True).click()
    page.locator("main").get_by_role("link", name="Coupon packs", exact=True).first.click()
    page.locator("tr", has_text="超值券包").get_by_role("link", name="Sales").click()
    sales = page.locator("tr[data-purchase]")
    expect(sales).to_have_count(2)  # the demo's two paid purchases
    expect(sales.first).to_contain_text("Paid")
    shots.take(page, "pack-sales-en")
    sales.first.get_by_role("button", name="Refund ¥9.90").click()
    expect(page.get_by_role("status")).to_contain_text("Refunded ¥9.90")
    expect(page.locator("tr[data-purchase]").first).to_contain_text("Refunded")
    expect(page.locator("tr[data-purchase]").first.get_by_role("button")).to_have_count(0)
    with souk.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 2  # the demo's own, and this
        db.session.remove()

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("tr[data-purchase]").first).to_contain_text("已退款")
    expect(page.locator("tr[data-purchase]").nth(1).get_by_role("button")).to_contain_text("退款 ¥9.90")
    shots.take(page, "pack-sales-zh")

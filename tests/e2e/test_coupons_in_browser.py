"""A merchant creates a coupon with amounts in yuan, issues it to a segment, watches the progress bar fill
and finds the coupon in a member's wallet — in English, then the same pages in 简体中文."""

from __future__ import annotations

import sqlalchemy as sa
from e2e.harness import log_in, new_page
from playwright.sync_api import expect

from souk_platform.coupons.models import Coupon, CustomerCoupon
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.demo import demo_shop
from souk_platform.tags.services import create_segment, create_tag, tag_customers


def _a_segment_of_two(souk):
    """A segment of two demo customers (a manual tag), as a merchant would have built one."""
    with souk.app.app_context():
        shop = demo_shop(db.session)
        now = souk.app.extensions["souk.clock"].now()
        members = db.session.scalars(
            sa.select(Customer).where(Customer.shop_id == shop.id).order_by(Customer.id.desc()).limit(2)
        ).all()
        tag = create_tag(db.session, shop_id=shop.id, name="端午礼券", now=now)
        tag_customers(db.session, shop_id=shop.id, tag_id=tag.id, customer_ids=[m.id for m in members])
        create_segment(
            db.session,
            shop_id=shop.id,
            name="端午礼券人群",
            description=None,
            condition={"op": "and", "conditions": [{"field": "tag", "cmp": "has", "value": tag.id}]},
        )
        db.session.commit()
        names = [m.name for m in members]
        db.session.remove()
    return names


def test_the_owner_creates_a_coupon_issues_it_to_a_segment_and_sees_it_in_a_wallet(souk, browser, shots):
    member_names = _a_segment_of_two(souk)
    page = new_page(browser, locale="en-US")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text="Your shops").get_by_role("link", name="Coupons", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Coupons")
    shots.take(page, "coupons-list")

    page.get_by_role("link", name="New coupon").click()
    page.locator("#name").fill("端午 满88减12")
    page.locator("#code").fill("duanwu12")
    page.locator("#kind").select_option("threshold")
    page.locator("#value").fill("12")
    page.locator("#min_spend").fill("88.8")
    page.locator("#distribution").select_option("issued")
    page.locator("#valid_days").fill("15")
    shots.take(page, "new-coupon-form")
    page.get_by_role("button", name="Create coupon").click()
    expect(page.get_by_role("status")).to_have_text("Coupon created.")
    expect(page.locator("section.card").first).to_contain_text("¥12.00 off orders of ¥88.80 or more")
    with souk.app.app_context():
        coupon = db.session.scalars(sa.select(Coupon).where(Coupon.code == "DUANWU12")).one()
        assert (coupon.value, coupon.min_spend, coupon.distribution) == (1200, 8880, "issued")
        db.session.remove()

    page.locator("#segment_id").select_option(label="端午礼券人群")
    page.get_by_role("button", name="Issue coupon").click()
    # The issue page refreshes itself until the job (in-process here) is done; the bar is then full.
    expect(page.locator("#progress")).to_contain_text("Done", timeout=20_000)
    expect(page.locator("#progress .done-count")).to_have_text("2 / 2")
    expect(page.locator("#progress progress")).to_have_attribute("value", "2")
    expect(page.locator("#progress")).to_contain_text("issued 2")
    shots.take(page, "issue-done")
    issue_url = page.url

    page.get_by_role("link", name=member_names[0]).click()
    wallet = page.locator("section.wallet")
    row = wallet.locator("tr", has_text="端午 满88减12")
    expect(row).to_contain_text("Usable")
    expect(row).to_contain_text("DUANWU12")
    shots.take(page, "wallet-en")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("h1")).to_contain_text("卡券包")
    expect(wallet.locator("tr", has_text="端午 满88减12")).to_contain_text("可使用")
    expect(wallet.locator("tr", has_text="端午 满88减12")).to_contain_text("满 ¥88.80 减 ¥12.00")
    shots.take(page, "wallet-zh")
    page.goto(issue_url)
    expect(page.locator("h1")).to_contain_text("发放「端午 满88减12」")
    expect(page.locator("#progress")).to_contain_text("已完成")
    shots.take(page, "issue-zh")
    with souk.app.app_context():
        held = db.session.scalar(
            sa.select(sa.func.count()).select_from(CustomerCoupon).where(CustomerCoupon.coupon_id == coupon.id)
        )
        assert held == 2
        db.session.remove()

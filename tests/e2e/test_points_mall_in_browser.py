"""The points mall in the browser (§5.14, §14): the owner adds an item with its cash typed in yuan, takes it off
sale, opens the mall as a member, who redeems and pays; the shop cancels a redemption — in English, then the
mall and its pages in 简体中文."""

from __future__ import annotations

import re

import sqlalchemy as sa
from e2e.harness import log_in, new_page
from playwright.sync_api import expect

from souk_platform.db import db
from souk_platform.ledger.models import LedgerAccount
from souk_platform.ledger.services import check_invariants
from souk_platform.points_mall.models import MallItem, MallRedemption


def _richest_member(souk, shop_id):
    """The demo customer with the most points (the demo gives 200–1000 to ten of them)."""
    with souk.app.app_context():
        owner = db.session.scalar(
            sa.select(LedgerAccount.owner_id)
            .where(LedgerAccount.shop_id == shop_id, LedgerAccount.kind == "customer.points")
            .order_by(LedgerAccount.balance.desc())
            .limit(1)
        )
        db.session.remove()
    return owner


def test_the_owner_stocks_the_mall_and_a_member_redeems_and_pays(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text="Your shops").get_by_role("link", name="Points mall", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Points mall")
    shop_id = re.search(r"/shops/([^/]+)/points-mall", page.url).group(1)
    expect(page.locator("tr", has_text="龙井 250g · 积分加钱购")).to_contain_text("200 points + ¥19.90")  # the demo's
    shots.take(page, "mall-items-en")

    page.get_by_role("link", name="New item").click()
    page.select_option("#kind", "goods")
    page.select_option("#sku_id", index=1)
    page.fill("#title", "春茶礼盒")
    page.fill("#points", "400")
    page.fill("#cash", "1e3")
    page.get_by_role("button", name="Create item").click()
    expect(page.locator(".field-error")).to_contain_text("Enter an amount like 5 or 5.00")
    page.fill("#cash", "29.9")
    page.get_by_role("button", name="Create item").click()
    expect(page.get_by_role("status")).to_have_text("Item created.")
    row = page.locator("tr", has_text="春茶礼盒")
    expect(row).to_contain_text("400 points + ¥29.90")
    expect(row).to_contain_text("On sale")
    with souk.app.app_context():
        item = db.session.scalars(sa.select(MallItem).where(MallItem.title == "春茶礼盒")).one()
        assert (item.points, item.cash, item.kind) == (400, 2990, "goods")
        db.session.remove()
    row.get_by_role("button", name="Take off sale").click()
    expect(page.locator("tr", has_text="春茶礼盒")).to_contain_text("Off sale")
    shots.take(page, "mall-item-created")

    member = _richest_member(souk, shop_id)
    page.select_option("#member-link select[name=customer_id]", member)
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.locator("#member")).to_contain_text("points")
    expect(page.locator("tr", has_text="春茶礼盒")).to_have_count(0)  # off sale: not in the mall
    balance = int(re.search(r"(\d+) points", page.locator("#balance").inner_text()).group(1))
    page.locator("tr", has_text="龙井 250g · 积分加钱购").get_by_role("button", name="Redeem").click()
    expect(page.get_by_role("status")).to_have_text("Redeemed: pay the cash part to complete it.")
    expect(page.locator("#balance")).to_have_text(f"{balance - 200} points")
    mine = page.locator("#my-redemptions tr").first
    expect(mine).to_contain_text("Awaiting payment")
    mine.get_by_role("button", name="Pay ¥19.90").click()
    expect(page.get_by_role("status")).to_have_text("Paid.")
    expect(page.locator("#my-redemptions tr").first).to_contain_text("Paid")
    shots.take(page, "mall-member-en")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("h1")).to_contain_text("积分商城")
    expect(page.locator("tr", has_text="会员礼包").get_by_role("button", name="兑换")).to_be_visible()
    expect(page.locator("#my-redemptions")).to_contain_text("已支付")
    shots.take(page, "mall-member-zh")

    page.goto(f"{souk.url}/shops/{shop_id}/points-mall/redemptions?status=paid")
    expect(page.locator("h1")).to_contain_text("兑换记录")
    paid = page.locator("tr[data-redemption]", has_text="龙井 250g · 积分加钱购").first
    paid.get_by_role("button", name="取消").click()
    expect(page.get_by_role("status")).to_contain_text("兑换已取消")
    shots.take(page, "mall-redemptions-zh")
    with souk.app.app_context():
        cancelled = db.session.scalars(
            sa.select(MallRedemption).where(MallRedemption.customer_id == member, MallRedemption.status == "cancelled")
        ).all()
        assert len(cancelled) == 1 and cancelled[0].cash == 1990
        assert check_invariants(db.session) == []
        db.session.remove()

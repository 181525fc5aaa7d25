"""The demo's people log in through real forms (CSRF on) and read pages in both languages."""

from __future__ import annotations

import itertools
import re

from e2e.harness import log_in, new_page
from playwright.sync_api import expect


def test_the_demo_owner_logs_in_and_sees_the_shop_in_english_and_chinese(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    expect(page.locator("h2", has_text="Your shops")).to_be_visible()
    expect(page.get_by_text("Souk Demo Tea House")).to_be_visible()
    shots.take(page, "home-en")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("h2", has_text="您的店铺")).to_be_visible()
    shots.take(page, "home-zh")


def test_a_wrong_password_is_refused_with_a_clear_message(souk, browser, shots):
    page = new_page(browser)
    log_in(page, souk.url, "owner@demo.souk.dev", "not-the-password")
    assert page.get_by_role("status").inner_text() == "The email or password is not right."
    shots.take(page, "login-refused")


def _shop_link(page, name):
    """The owner's link ``name`` under *Your shops* on the home page."""
    return page.locator("section.card", has_text="Your shops").get_by_role("link", name=name, exact=True)


def test_the_owner_creates_a_token_with_two_scopes_and_is_told_when_none_is_chosen(souk, browser, shots):
    page = new_page(browser)
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    _shop_link(page, "Access tokens").click()

    page.fill("input[name=name]", "No scopes")
    page.click("button:has-text('Create token')")
    expect(page.locator(".field-error")).to_have_text("Choose at least one scope.")
    expect(page.locator("#new-token")).to_have_count(0)
    shots.take(page, "token-without-scopes")

    page.fill("input[name=name]", "Order reader")
    page.check("input[value=read_orders]")
    page.check("input[value=read_shop]")
    page.click("button:has-text('Create token')")
    expect(page.locator("#new-token")).to_be_visible()
    row = page.locator("tr", has_text="Order reader")
    expect(row).to_contain_text("read_orders, read_shop")
    shots.take(page, "token-with-two-scopes")


def test_the_home_page_spaces_the_shop_links_and_every_page_has_an_icon(souk, browser, shots):
    page = new_page(browser)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    expect(page.locator("h2", has_text="Your shops")).to_be_visible()
    links = page.locator("section.card", has_text="Your shops").locator("td a")
    boxes = [links.nth(i).bounding_box() for i in range(links.count())]
    assert len(boxes) >= 3
    for left, right in itertools.pairwise(boxes):
        same_line = abs(left["y"] - right["y"]) < 2
        assert not same_line or right["x"] - (left["x"] + left["width"]) >= 8, "links run together"
    assert page.locator("link[rel=icon]").count() == 1
    assert missing == []
    shots.take(page, "home-links")


def test_a_members_order_shows_its_level_perks_in_english_and_chinese(souk, browser, shots):
    """The demo's members bought at member prices or their level's discount: the order page says which."""
    page = new_page(browser, locale="en-US")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    _shop_link(page, "Orders").click()
    orders = [page.locator("table a code").nth(i).inner_text() for i in range(page.locator("table a code").count())]
    assert orders
    for order_id in orders:
        page.get_by_role("link", name=order_id).click()
        if page.locator("#order-member-discount").count():
            break
        page.go_back()
    else:
        raise AssertionError("no demo order shows level perks")
    expect(page.locator("#order-member-level")).to_have_text(re.compile(r"^V[2-5]$"))
    expect(page.locator("#order-member-discount")).to_contain_text("already in the subtotal")
    expect(page.locator("#order-member-discount td")).to_have_text(re.compile(r"^-¥[\d,]+\.\d\d$"))
    expect(page.locator(".member-perk").first).to_have_text(
        re.compile(r"^(Member price|Level discount|Benefit (price|discount):\s+\S+)$")
    )
    shots.take(page, "order-level-perks-en")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("#order-member-discount")).to_contain_text("已计入小计")
    expect(page.locator(".member-perk").first).to_have_text(re.compile(r"^(会员价|等级折扣|权益(价|折扣):\s+\S+)$"))
    shots.take(page, "order-level-perks-zh")

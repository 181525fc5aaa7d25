"""The owner manages benefit packages (权益包) in the browser, in English and Chinese (§5.10)."""

from __future__ import annotations

from e2e.harness import log_in, new_page
from playwright.sync_api import expect


def _open_benefits(page, souk):
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text="Your shops").get_by_role("link", name="Benefits", exact=True).click()


def test_the_owner_creates_a_birthday_package_in_yuan_and_reads_the_grants_log(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    _open_benefits(page, souk)
    expect(page.locator("h1")).to_contain_text("Benefit packages")
    demo = page.locator("tr", has_text="生日礼")
    expect(demo).to_contain_text("On the birthday (生日礼)")
    expect(demo).to_contain_text("¥20.00 stored value")
    shots.take(page, "packages-en")

    page.get_by_role("link", name="New benefit package").click()
    page.fill("input[name=name]", "Spring birthday")
    page.select_option("select[name=trigger]", "birthday")
    page.select_option("select[name=birthday_when]", "month")
    page.fill("input[name=stored_value]", "ten yuan")
    page.click("button:has-text('Save')")
    expect(page.locator(".field-error")).to_have_text("Enter an amount in yuan like 10 or 10.50.")
    shots.take(page, "package-refused")

    page.fill("input[name=stored_value]", "12.50")
    page.fill("input[name=points]", "66")
    page.fill("input[name=percent_off]", "5")
    page.click("button:has-text('Save')")
    row = page.locator("tr", has_text="Spring birthday")
    expect(row).to_contain_text("In the birthday month (生日礼)")
    expect(row).to_contain_text("¥12.50 stored value")
    expect(row).to_contain_text("66 points")
    expect(row).to_contain_text("5% off every order for 30 days")
    shots.take(page, "package-created")

    row.get_by_role("link", name="Edit").click()
    expect(page.locator("input[name=stored_value]")).to_have_value("12.50")
    page.select_option("select[name=status]", "disabled")
    page.click("button:has-text('Save')")
    expect(page.locator("tr", has_text="Spring birthday")).to_contain_text("Disabled")

    page.get_by_role("link", name="Grants log").click()
    expect(page.locator("h1")).to_contain_text("Benefit grants")
    # The demo's grants: two birthday and join gifts, and the package a member took in the points mall.
    expect(page.locator("tr[data-grant]")).to_have_count(4)
    expect(page.locator("tr[data-grant]", has_text="生日礼").first).to_be_visible()
    expect(page.locator("tr[data-grant]", has_text="points_mall:").first).to_be_visible()
    shots.take(page, "grants-en")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("h1")).to_contain_text("权益发放记录")
    expect(page.locator("tr[data-grant]").first).to_contain_text("已发放")
    page.get_by_role("link", name="权益包").first.click()
    expect(page.locator("h1")).to_contain_text("权益包")
    expect(page.locator("tr", has_text="Spring birthday")).to_contain_text("生日当月（生日礼）")
    expect(page.locator("tr", has_text="Spring birthday")).to_contain_text("储值金 ¥12.50")
    shots.take(page, "packages-zh")


def test_the_owner_grants_a_package_by_hand_once_per_occasion(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    _open_benefits(page, souk)
    page.locator("tr", has_text="入会礼").get_by_role("link", name="Grant by hand").click()
    expect(page.locator("h1")).to_contain_text("Grant by hand")
    page.fill("input[name=period]", "has space")
    page.select_option("select[name=customer_ids]", index=[0, 1])
    page.click("button:has-text('Grant')")
    expect(page.locator(".field-error")).to_have_text("Letters, digits, - _ . : only.")
    page.fill("input[name=period]", "2026-spring")
    page.select_option("select[name=customer_ids]", index=[0, 1])
    page.click("button:has-text('Grant')")
    expect(page.get_by_text("Granted to 2 customers; 0 already had it for this occasion.")).to_be_visible()
    # the two by hand, beside the one a member redeemed in the demo's points mall
    expect(page.locator("tr[data-grant]")).to_have_count(3)
    expect(page.locator("tr[data-grant]", has_text="manual:2026-spring")).to_have_count(2)
    expect(page.locator("tr[data-grant]").first).to_contain_text("manual:2026-spring")
    shots.take(page, "granted-by-hand")
    # The same occasion again gives nothing more.
    page.get_by_role("link", name="← Benefit packages").click()
    page.locator("tr", has_text="入会礼").get_by_role("link", name="Grant by hand").click()
    page.fill("input[name=period]", "2026-spring")
    page.select_option("select[name=customer_ids]", index=[0, 1])
    page.click("button:has-text('Grant')")
    expect(page.get_by_text("Granted to 0 customers; 2 already had it for this occasion.")).to_be_visible()
    expect(page.locator("tr[data-grant]")).to_have_count(3)

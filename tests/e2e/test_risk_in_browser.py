"""The owner follows risk control in the browser (§5.13): a refused checkout shows in the decisions with the rule
that fired, and a held order is approved from the review queue — in English, then in 简体中文."""

from __future__ import annotations

import re

from e2e.harness import log_in, new_page
from playwright.sync_api import expect


def _open_risk(page, souk):
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text="Your shops").get_by_role("link", name="Risk control", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Risk decisions")
    return re.search(r"/shops/([^/]+)/risk", page.url).group(1)


def test_a_denied_checkout_appears_in_the_decisions_and_a_review_is_approved(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    shop_id = _open_risk(page, souk)
    # the demo's day: a refusal by the block list, two orders held
    expect(page.locator("tr[data-outcome=deny]").first).to_contain_text("On the block list (IP address)")
    expect(page.locator("tr[data-outcome=review]")).to_have_count(2)
    shots.take(page, "decisions-en")

    # block the address the back office's test orders come from, then place one: it is refused and recorded
    page.get_by_role("link", name="Block and allow lists").click()
    page.select_option("select[name=list]", "block")
    page.select_option("select[name=kind]", "ip")
    page.fill("input[name=value]", "127.0.0.1")
    page.fill("input[name=note]", "browser test")
    page.get_by_role("button", name="Add to the list").click()
    expect(page.get_by_text("Added to the list.")).to_be_visible()
    page.goto(f"{souk.url}/shops/{shop_id}/orders/new")
    page.select_option("[aria-label='Product 1']", index=1)
    page.fill("[aria-label='Quantity 1']", "1")
    page.get_by_role("button", name="Check out").click()
    expect(page.get_by_text("The checkout refused this order")).to_be_visible()
    page.goto(f"{souk.url}/shops/{shop_id}/risk?outcome=deny")
    newest = page.locator("tr[data-outcome=deny]").first
    expect(newest).to_contain_text("127.0.0.1")
    expect(newest).to_contain_text("On the block list (IP address)")
    shots.take(page, "denied-checkout")
    page.get_by_role("link", name="Block and allow lists").click()
    page.locator("tr", has_text="127.0.0.1").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Removed from the list.")).to_be_visible()

    # approve the first held order: it now awaits payment
    page.get_by_role("link", name="Review queue").click()
    rows = page.locator("tr[data-review]")
    expect(rows).to_have_count(2)
    first = rows.first
    order_id = first.locator("code").inner_text()
    first.locator("input[name=note]").fill("熟客，已电话确认")
    first.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved: the order now awaits payment.")).to_be_visible()
    expect(page.locator("tr[data-review]")).to_have_count(1)
    shots.take(page, "review-approved")
    page.goto(f"{souk.url}/shops/{shop_id}/orders/{order_id}")
    expect(page.locator("body")).to_contain_text("Awaiting payment")

    page.goto(f"{souk.url}/shops/{shop_id}/risk/reviews")
    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("h1")).to_contain_text("审核队列")
    expect(page.locator("tr[data-review]").first).to_contain_text("同一设备多个账号")
    shots.take(page, "reviews-zh")


def test_the_dashboard_and_the_settings_preview_in_both_languages(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    shop_id = _open_risk(page, souk)
    page.get_by_role("link", name="Risk dashboard").click()
    expect(page.locator("h1")).to_contain_text("Risk dashboard")
    expect(page.locator("svg.risk-chart g[data-day]")).to_have_count(14)
    expect(page.locator("tr[data-top-rule]").first).to_be_visible()
    expect(page.locator("tr[data-top-ip]", has_text="10.66.6.6")).to_be_visible()
    expect(page.locator("a[data-open-reviews]")).to_have_attribute("href", f"/shops/{shop_id}/risk/reviews")
    shots.take(page, "dashboard-en")

    # a stricter dense-buying limit, previewed against yesterday before it is saved
    page.get_by_role("link", name="Rules and thresholds").click()
    page.fill("input[name=customer_dense_orders_threshold]", "1")
    page.get_by_role("button", name="Preview against yesterday").click()
    replay = page.locator("#replay")
    expect(replay).to_contain_text("What these settings would have decided on")
    expect(replay.locator("tr[data-replay-rule=customer_dense_orders]")).to_be_visible()
    expect(page.locator("input[name=customer_dense_orders_threshold]")).to_have_value("1")  # as typed, not saved
    shots.take(page, "replay-preview-en")
    page.goto(f"{souk.url}/shops/{shop_id}/risk/settings")
    expect(page.locator("input[name=customer_dense_orders_threshold]")).not_to_have_value("1")

    page.get_by_role("link", name="简体中文").click()
    page.get_by_role("link", name="风控看板").click()
    expect(page.locator("h1")).to_contain_text("风控看板")
    expect(page.locator("body")).to_contain_text("每日决策")
    shots.take(page, "dashboard-zh")
    page.goto(f"{souk.url}/shops/{shop_id}/risk/settings")
    page.get_by_role("button", name="用昨天的数据预览").click()
    expect(page.locator("#replay")).to_contain_text("这些设置在")
    shots.take(page, "replay-preview-zh")

"""The owner reads the message engagement report (§5.11, §14) in English and Chinese: the channels as a bar chart
and a table, the templates, and a message sent from a template page showing up in the figures."""

from __future__ import annotations

from e2e.harness import log_in, new_page
from playwright.sync_api import expect


def _report(page, souk, shop_section, messages_link, report_link):
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text=shop_section).get_by_role("link", name=messages_link, exact=True).click()
    page.get_by_role("link", name=report_link, exact=True).click()


def test_the_report_counts_the_demo_messages_and_one_sent_now(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    _report(page, souk, "Your shops", "Messages", "Engagement report")
    expect(page.locator("h1")).to_contain_text("Engagement report")
    totals = page.locator("[data-totals]")
    before = int(totals.get_attribute("data-totals") or "0")
    assert before > 0  # the demo's inbox messages
    expect(page.locator("svg.message-chart g[data-channel]").first).to_be_visible()
    inbox = page.locator("tr[data-channel-row]", has_text="In-app inbox")
    expect(inbox).to_be_visible()
    shots.take(page, "report-en")

    # send one more inbox message from a template's page: the report counts it (whatever its status)
    page.get_by_role("link", name="Message templates", exact=True).click()
    page.locator("tr[data-template]", has_text="生日关怀").get_by_role("link").first.click()
    page.click("#send-button")
    expect(page.locator("h1")).to_contain_text("Message log")
    page.get_by_role("link", name="Engagement report", exact=True).click()
    expect(page.locator("[data-totals]")).to_have_attribute("data-totals", str(before + 1))
    expect(page.locator("tr[data-template-row]", has_text="生日关怀")).to_be_visible()
    page.get_by_role("link", name="Last 30 days").click()
    expect(page.locator("[data-totals]")).to_have_attribute("data-totals", str(before + 1))


def test_the_same_in_chinese(souk, browser, shots):
    page = new_page(browser, locale="zh-CN")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.get_by_role("link", name="简体中文").click()
    page.locator("section.card", has_text="您的店铺").get_by_role("link", name="消息触达", exact=True).click()
    page.get_by_role("link", name="触达效果", exact=True).click()
    expect(page.locator("h1")).to_contain_text("触达效果")
    expect(page.locator("section.card", has_text="各渠道的消息")).to_contain_text("送达率")
    expect(page.locator("tr[data-channel-row]", has_text="站内信").first).to_be_visible()
    shots.take(page, "report-zh")

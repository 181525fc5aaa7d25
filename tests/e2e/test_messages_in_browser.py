"""The owner writes a message template, previews it for a customer and sends it, in the browser (§5.11)."""

from __future__ import annotations

from e2e.harness import log_in, new_page
from playwright.sync_api import expect


def test_the_owner_creates_a_template_previews_it_for_a_customer_and_sends_it(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text="Your shops").get_by_role("link", name="Messages", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Message templates")
    expect(page.locator("tr[data-template]", has_text="新客欢迎")).to_contain_text("Email")
    expect(page.locator("tr[data-template]", has_text="生日关怀")).to_contain_text("In-app inbox")
    shots.take(page, "templates-en")

    page.get_by_role("link", name="New template").click()
    page.fill("input[name=name]", "Restock note")
    page.select_option("select[name=channel_kind]", "inbox")
    page.fill("textarea[name=body]", "{{ customer_name }}, {{ ''.__class__ }}")
    page.click("button:has-text('Save')")
    expect(page.locator(".field-error")).to_contain_text("unsafe")
    shots.take(page, "template-refused")

    page.fill(
        "textarea[name=body]", "{{ customer_name }}, your {{ level_name }} tea is back in stock at {{ shop_name }}."
    )
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_contain_text("Restock note")
    customer = page.locator("select[name=preview-customer_id] option").first.inner_text().split(" · ")[0]
    page.click("#preview-button")
    expect(page.locator("#preview-body")).to_contain_text(f"{customer}, your ")
    expect(page.locator("#preview-body")).to_contain_text("tea is back in stock")
    shots.take(page, "template-preview")

    page.click("#send-button")
    expect(page.locator("h1")).to_contain_text("Message log")
    row = page.locator("tr[data-message]", has_text="tea is back in stock").first
    expect(row).to_contain_text(customer)
    expect(row).to_contain_text("By hand")
    shots.take(page, "message-log-en")

    page.get_by_role("link", name="Channels and quiet hours").click()
    expect(page.locator("input[name=quiet-quiet_start]")).to_have_value("21:00")
    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("h1")).to_contain_text("渠道与免打扰")
    page.get_by_role("link", name="消息记录").click()
    expect(page.locator("tr[data-message]", has_text="tea is back in stock").first).to_contain_text("手动发送")
    shots.take(page, "message-log-zh")

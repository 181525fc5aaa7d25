"""The owner changes a running journey's settings from the canvas's side form (§5.12, §14), in English and
Chinese: a bad frequency cap is refused beside its field and nothing changes; good settings are saved as the
journey's next version and it keeps running."""

from __future__ import annotations

from e2e.harness import log_in, new_page
from playwright.sync_api import expect


def _open(page, souk, shop_section, journeys_link, journey):
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text=shop_section).get_by_role("link", name=journeys_link, exact=True).click()
    page.get_by_role("link", name=journey, exact=True).click()


def test_a_running_journeys_settings_are_changed_on_the_canvas(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    _open(page, souk, "Your shops", "Journeys", "沉睡唤醒 A/B")
    expect(page.locator("#journey-status")).to_have_text("Running")
    form = page.locator("#settings-form")
    expect(page.locator("#journey-settings h2")).to_have_text("Journey settings")  # no node chosen
    expect(form.locator("select[name=s_reentry]")).to_have_value("never")
    version = page.locator("#settings-form input[name=version]").input_value()

    form.locator("input[name=s_cap_messages]").fill("0")
    form.locator("input[name=s_cap_days]").fill("7")
    page.locator("#save-settings").click()
    expect(page.get_by_text("Not saved: the journey's settings are marked below.")).to_be_visible()
    expect(form.locator(".field-error[data-path='settings.frequency_cap']")).to_contain_text(
        "1 to 100 messages in 1 to 365 days"
    )
    expect(form.locator("input[name=s_cap_messages]")).to_have_value("0")  # what was typed, to correct
    shots.take(page, "refused-en")

    form.locator("input[name=s_cap_messages]").fill("2")
    form.locator("input[name=s_quiet_start]").fill("21:00")
    form.locator("input[name=s_quiet_end]").fill("09:00")
    form.locator("select[name=s_reentry]").select_option("after_days")
    form.locator("input[name=s_reentry_days]").fill("30")
    page.locator("#save-settings").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("#journey-status")).to_have_text("Running")
    expect(form.locator("input[name=s_cap_messages]")).to_have_value("2")
    expect(form.locator("input[name=s_quiet_end]")).to_have_value("09:00")
    expect(form.locator("select[name=s_reentry]")).to_have_value("after_days")
    assert int(page.locator("#settings-form input[name=version]").input_value()) > int(version)  # a newer version
    shots.take(page, "saved-en")


def test_the_same_in_chinese(souk, browser, shots):
    page = new_page(browser, locale="zh-CN")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.get_by_role("link", name="简体中文").click()
    page.locator("section.card", has_text="您的店铺").get_by_role("link", name="营销画布", exact=True).click()
    page.get_by_role("link", name="加购未下单提醒", exact=True).click()
    expect(page.locator("#journey-settings h2")).to_have_text("旅程设置")
    form = page.locator("#settings-form")
    form.locator("input[name=s_quiet_start]").fill("25:00")
    form.locator("input[name=s_quiet_end]").fill("08:00")
    page.get_by_role("button", name="保存设置").click()
    expect(page.get_by_text("未保存：有问题的旅程设置已在下方标出。")).to_be_visible()
    expect(form.locator(".field-error[data-path='settings.quiet_hours']")).to_contain_text("HH:MM")
    shots.take(page, "refused-zh")
    form.locator("input[name=s_quiet_start]").fill("22:00")
    form.locator("select[name=s_goal_event]").select_option("order.paid")
    form.locator("input[name=s_goal_within_days]").fill("3")
    page.get_by_role("button", name="保存设置").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    expect(form.locator("input[name=s_goal_within_days]")).to_have_value("3")
    expect(page.locator("#journey-status")).to_have_text("运行中")
    shots.take(page, "saved-zh")

"""The owner runs points operations in the browser (§5.15): the demo's earning tasks, a new one made and
paused, the policy with a point's value typed in yuan, and the liability chart — in English, then in 简体中文."""

from __future__ import annotations

import re

from e2e.harness import log_in, new_page
from playwright.sync_api import expect


def _open_points(page, souk):
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text="Your shops").get_by_role(
        "link", name="Points operations", exact=True
    ).click()
    expect(page.locator("h1")).to_contain_text("Earning tasks")
    return re.search(r"/shops/([^/]+)/points", page.url).group(1)


def test_tasks_are_made_paused_and_the_policy_is_typed_in_yuan(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    shop_id = _open_points(page, souk)
    expect(page.locator("tr[data-task]")).to_have_count(5)
    expect(page.locator("tr[data-task]", has_text="每日签到")).to_contain_text("+50 on day 7")
    shots.take(page, "tasks-en")

    page.get_by_role("link", name="New task").click()
    page.fill("input[name=name]", "晒图有礼")
    page.select_option("select[name=kind]", "post_review")
    page.fill("input[name=points]", "15")
    page.fill("input[name=starts_on]", "2030-12-31")
    page.fill("input[name=ends_on]", "2030-12-01")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error", has_text="Must be after starts_at.")).to_be_visible()  # nothing saved
    page.fill("input[name=starts_on]", "")
    page.fill("input[name=ends_on]", "")
    page.fill("input[name=daily_cap]", "2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Task created.")).to_be_visible()
    row = page.locator("tr[data-task]", has_text="晒图有礼")
    expect(row).to_contain_text("2 a day")
    row.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Task paused.")).to_be_visible()
    expect(page.locator("tr[data-task]", has_text="晒图有礼")).to_have_attribute("data-status", "paused")
    shots.take(page, "task-paused")

    page.get_by_role("link", name="Points policy").click()
    page.fill("input[name=point_value]", "0.123")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("at most two decimals")).to_be_visible()
    page.fill("input[name=point_value]", "¥0.02")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Points policy saved.")).to_be_visible()
    expect(page.locator("input[name=point_value]")).to_have_value("0.02")
    shots.take(page, "policy-en")

    page.get_by_role("link", name="Points liability").click()
    expect(page.locator("svg.points-chart g[data-month]")).to_have_count(12)
    expect(page.locator("[data-outstanding]")).to_contain_text("Points outstanding")
    shots.take(page, "liability-en")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("h1")).to_contain_text("积分负债")
    expect(page.locator("body")).to_contain_text("每月发放与消耗")
    shots.take(page, "liability-zh")
    page.goto(f"{souk.url}/shops/{shop_id}/points/tasks")
    expect(page.locator("h1")).to_contain_text("积分任务")
    expect(page.locator("tr[data-task]", has_text="每日签到")).to_contain_text("每日签到")
    expect(page.locator("tr[data-task]", has_text="晒图有礼")).to_contain_text("每天 2 次")
    shots.take(page, "tasks-zh")
    page.goto(f"{souk.url}/shops/{shop_id}/points/policy")
    expect(page.get_by_label("每积分抵扣金额（元）")).to_have_value("0.02")

"""The owner builds a journey (营销画布) from a template on the canvas, in English and Chinese (§5.12, §14):
the gallery makes a draft, the side form fills a placeholder, a node is deleted, activation changes the status."""

from __future__ import annotations

from e2e.harness import log_in, new_page
from playwright.sync_api import expect


def _open_journeys(page, souk, section, link):
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card", has_text=section).get_by_role("link", name=link, exact=True).click()


def test_a_draft_from_a_template_is_filled_in_and_activated(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    _open_journeys(page, souk, "Your shops", "Journeys")
    expect(page.locator("h1")).to_contain_text("Journeys")
    expect(page.locator("tr", has_text="会员生日关怀")).to_contain_text("Running")  # the demo's
    page.get_by_role("link", name="Start from a template").click()
    expect(page.locator("[data-template]")).to_have_count(8)
    shots.take(page, "gallery-en")
    page.locator("[data-template=first_order_repurchase]").get_by_role("button", name="Use this template").click()
    expect(page.locator("h1")).to_contain_text("From the first order to the second")
    expect(page.locator("#journey-status")).to_have_text("Draft")
    expect(page.locator("#problems")).to_contain_text("Choose a coupon of this shop.")
    expect(page.locator("[data-node=coupon] g.node")).to_have_class("node action bad")
    shots.take(page, "draft-en")

    page.locator("[data-node=coupon]").click()
    expect(page.locator("#side h2")).to_contain_text("Action")
    page.select_option("#node-form select[name=p_coupon_id]", label="会员专享 满199减30 / Members: ¥30 off ¥199")
    page.locator("#save-node").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("[data-node=coupon] g.node")).not_to_have_class("node action bad")
    shots.take(page, "filled-en")

    page.get_by_role("button", name="Activate").click()  # the message node still lacks its channel
    expect(page.get_by_text("The journey cannot be activated yet")).to_be_visible()
    expect(page.locator("#journey-status")).to_have_text("Draft")
    page.locator("[data-node=tell]").click()
    page.get_by_role("button", name="Delete this node").click()
    expect(page.locator("[data-node=tell]")).to_have_count(0)
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("#journey-status")).to_have_text("Running")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    shots.take(page, "active-en")


def test_the_same_in_chinese(souk, browser, shots):
    page = new_page(browser, locale="zh-CN")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.get_by_role("link", name="简体中文").click()
    page.locator("section.card", has_text="您的店铺").get_by_role("link", name="营销画布", exact=True).click()
    page.get_by_role("link", name="从模板开始").click()
    page.locator("[data-template=birthday_care]").get_by_role("button", name="使用此模板").click()
    expect(page.locator("#journey-status")).to_have_text("草稿")
    expect(page.locator("#problems")).to_contain_text("请选择本店的权益包。")
    page.locator("[data-node=gift]").click()
    page.select_option("#node-form select[name=p_package_id]", label="生日礼")
    page.get_by_role("button", name="保存节点").click()
    page.locator("[data-node=greet]").click()
    page.get_by_role("button", name="删除此节点").click()
    page.get_by_role("button", name="启用").click()
    expect(page.locator("#journey-status")).to_have_text("运行中")
    shots.take(page, "active-zh")
    page.get_by_role("button", name="暂停").click()
    expect(page.locator("#journey-status")).to_have_text("已暂停")

"""The demo's people log in through real forms (CSRF on) and read pages in both languages."""

from __future__ import annotations

from e2e.harness import log_in, new_page
from playwright.sync_api import expect


def test_the_demo_owner_logs_in_and_sees_the_shop_in_english_and_chinese(souk, browser, shots):
    page = new_page(browser, locale="en-US")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    expect(page.locator("h2", has_text="Your shops")).to_be_visible()
    expect(page.get_by_text("Souk Demo Tea House")).to_be_visible()
    shots.take(page, "home-en")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("h2", has_text="你的店铺")).to_be_visible()
    shots.take(page, "home-zh")


def test_a_wrong_password_is_refused_with_a_clear_message(souk, browser, shots):
    page = new_page(browser)
    log_in(page, souk.url, "owner@demo.souk.dev", "not-the-password")
    assert page.get_by_role("status").inner_text() == "The email or password is not right."
    shots.take(page, "login-refused")

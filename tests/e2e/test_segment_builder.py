"""The merchant builds the seed's segment in the browser: fields from the registry, reach as they edit, yuan typed."""

from __future__ import annotations

import sqlalchemy as sa
from e2e.harness import log_in, new_page
from playwright.sync_api import expect

from souk_platform.audience.schemas import load_condition_group
from souk_platform.audience.services import count_matching
from souk_platform.catalog.models import Product
from souk_platform.db import db
from souk_platform.demo import demo_shop
from souk_platform.tags.models import Segment


def _reach(souk, condition) -> int:
    with souk.app.app_context():
        shop_id = demo_shop(db.session).id
        now = souk.app.extensions["souk.clock"].now()
        return count_matching(db.session, shop_id=shop_id, condition=load_condition_group(condition), now=now)


def _first_category(souk) -> str:
    with souk.app.app_context():
        shop_id = demo_shop(db.session).id
        return db.session.scalar(
            sa.select(Product.category_id).where(Product.shop_id == shop_id).order_by(Product.created_at, Product.id)
        )


def _open_builder(page, souk) -> None:
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.locator("section.card").first.wait_for()
    page.get_by_role("link", name=("Segment builder", "人群圈选")[0]).first.click()


def test_the_owner_builds_the_seed_segment_and_sees_its_reach_update(souk, browser, shots):
    page = new_page(browser)
    _open_builder(page, souk)
    expect(page.locator("h1")).to_contain_text("Segment builder")
    everyone = {"op": "and", "conditions": [{"field": "trade.orders_count", "cmp": "gte", "value": 1}]}
    expect(page.locator("#reach-count")).to_have_text(str(_reach(souk, everyone)))

    category = _first_category(souk)
    first = page.locator(".leaf").nth(0)
    first.locator(".window-days").fill("90")
    first.locator(".category").select_option(category)
    first.locator(".value input").fill("2")
    page.click("button.add-condition")
    second = page.locator(".leaf").nth(1)
    second.locator("select.field").select_option("trade.avg_order_value")
    second.locator(".window-days").fill("90")
    second.locator(".category").select_option(category)
    second.locator("select.cmp").select_option("gt")
    second.locator(".value input").fill("300")  # yuan: sent as 30000 fen
    expect(second.locator(".definition")).to_contain_text("the sum of values / the number of orders")

    params = {"window_days": 90, "category_id": category}
    seed = {
        "op": "and",
        "conditions": [
            {"field": "trade.orders_count", "params": params, "cmp": "gte", "value": 2},
            {"field": "trade.avg_order_value", "params": params, "cmp": "gt", "value": 30_000},
        ],
    }
    expect(page.locator("#reach-count")).to_have_text(str(_reach(souk, seed)))
    shots.take(page, "segment-builder-seed-example")

    page.fill("#segment-name", "母婴高客单 (browser)")
    page.click("#save")
    expect(page.locator("#saved")).to_have_text("Saved.")
    expect(page.locator("#segments")).to_contain_text("母婴高客单 (browser)")
    with souk.app.app_context():
        saved = db.session.scalar(sa.select(Segment).where(Segment.name == "母婴高客单 (browser)"))
        assert saved is not None and saved.condition == seed

    # A bad value names its path and shows no reach.
    first.locator(".value input").fill("-1")
    expect(page.locator("#errors")).to_contain_text("condition.conditions.0.value")
    expect(page.locator("#reach-count")).to_have_text("—")
    shots.take(page, "segment-builder-bad-value")


def test_the_builder_speaks_chinese(souk, browser, shots):
    page = new_page(browser, locale="zh-CN")
    log_in(page, souk.url, "owner@demo.souk.dev", "souk-demo-owner")
    page.get_by_role("link", name="人群圈选").first.click()
    expect(page.locator("h1")).to_contain_text("人群圈选")
    expect(page.locator("select.op").first).to_contain_text("全部满足（且）")
    expect(page.locator("select.field").first.locator("option:checked")).to_have_text("订单数")
    expect(page.locator("#reach-count")).not_to_have_text("—")
    first = page.locator(".leaf").first
    expect(first.locator("label.param", has=page.locator("select.param-channel"))).to_contain_text("渠道")
    expect(first.locator("select.param-channel option[value=store]")).to_have_text("门店")
    expect(first.locator("select.param-payment-method option[value=cash]")).to_have_text("现金")
    page.click("button.add-group")
    expect(page.locator("fieldset.group")).to_have_count(2)
    shots.take(page, "segment-builder-zh")


def test_the_builder_offers_every_parameter_and_the_reach_follows_them(souk, browser, shots):
    """An order channel chosen from a list and a campaign typed (suggested from the shop's events): the reach
    shown is the API's count of the same condition."""
    page = new_page(browser)
    _open_builder(page, souk)
    first = page.locator(".leaf").nth(0)
    # trade fields take every trade parameter; each kind gets its input
    for key in ("window-days", "date-from", "date-to", "category-id", "product-id", "product-tag", "payment-method"):
        expect(first.locator(f".param-{key}")).to_have_count(1)
    expect(first.locator("input.param-date-from")).to_have_attribute("type", "date")
    expect(first.locator("select.param-payment-method option")).to_have_count(4)  # any, cash, points, stored value
    first.locator("select.param-channel").select_option("store")
    first.locator(".value input").fill("1")
    by_channel = {
        "op": "and",
        "conditions": [{"field": "trade.orders_count", "params": {"channel": "store"}, "cmp": "gte", "value": 1}],
    }
    expect(page.locator("#reach-count")).to_have_text(str(_reach(souk, by_channel)))

    page.click("button.add-condition")
    second = page.locator(".leaf").nth(1)
    second.locator("select.field").select_option("behaviour.page_viewed_count")
    expect(second.locator("select.param-product-id")).to_have_count(0)  # page views take no product
    campaign = second.locator("input.param-campaign")
    expect(second.locator("datalist option[value='中秋']")).to_have_count(1)  # the demo's campaign, suggested
    campaign.fill("中秋")
    second.locator(".value input").fill("1")
    page.locator("select.op").first.select_option("or")
    both = {
        "op": "or",
        "conditions": [
            *by_channel["conditions"],
            {"field": "behaviour.page_viewed_count", "params": {"campaign": "中秋"}, "cmp": "gte", "value": 1},
        ],
    }
    expected = _reach(souk, both)
    assert expected != _reach(souk, by_channel)  # the second condition changes the reach
    expect(page.locator("#reach-count")).to_have_text(str(expected))
    shots.take(page, "segment-builder-params")

    page.fill("#segment-name", "门店或中秋 (browser)")
    page.click("#save")
    expect(page.locator("#saved")).to_have_text("Saved.")
    with souk.app.app_context():
        saved = db.session.scalar(sa.select(Segment).where(Segment.name == "门店或中秋 (browser)"))
        assert saved is not None and saved.condition == both

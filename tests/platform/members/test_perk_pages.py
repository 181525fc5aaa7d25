"""The back office's level perks (折 discount, points multiplier, category threshold) and member-price grid:
good input saved in the service's units, bad input explained with nothing written, another shop unreachable."""

from __future__ import annotations

import re

import sqlalchemy as sa

from factories import ShopFactory, log_in_to_shop
from souk_platform.catalog.categories import create_category
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.members.models import MemberPrice
from souk_platform.members.perks import create_member_price
from souk_platform.members.services import get_level_config


def _form() -> dict[str, str]:
    form = {"version": "0", "window_days": "365", "downgrade_period_days": "30"}
    for i, name in enumerate(["普通会员", "银卡", "金卡", "铂金", "黑金"]):
        form[f"levels-{i}-name"] = name
        for part in ("upgrade", "keep"):
            form[f"levels-{i}-{part}-match"] = "any"
            for metric in ("spend", "orders", "points"):
                form[f"levels-{i}-{part}-{metric}"] = ""
    return form


def _levels_form(**overrides: str) -> dict[str, str]:
    form = _form()
    for i in range(5):
        form[f"levels-{i}-discount"] = ""
        form[f"levels-{i}-points_multiplier"] = "1"
        for part in ("upgrade", "keep"):
            form[f"levels-{i}-{part}-category_id"] = ""
            form[f"levels-{i}-{part}-category_spend"] = ""
            form[f"levels-{i}-{part}-category_orders"] = ""
    return form | overrides


def test_a_discount_in_zhe_a_multiplier_and_a_category_threshold_are_saved_and_shown_back(client, session):
    shop = ShopFactory()
    tea = create_category(session, shop_id=shop.id, name="茶叶")
    oolong = create_category(session, shop_id=shop.id, name="乌龙茶", parent_id=tea.id)
    session.commit()
    log_in_to_shop(client, shop.id)
    page = client.get(f"/shops/{shop.id}/levels").get_data(as_text=True)
    assert "茶叶 / 乌龙茶" in page and "Member discount (折)" in page

    form = _levels_form(
        **{
            "levels-1-discount": "9.5",
            "levels-2-discount": "88折",
            "levels-3-discount": "10",
            "levels-2-points_multiplier": "×1.5",
            "levels-2-upgrade-category_id": oolong.id,
            "levels-2-upgrade-category_spend": "1,000",
            "levels-2-upgrade-category_orders": "2",
        }
    )
    r = client.post(f"/shops/{shop.id}/levels", data=form, follow_redirects=True)
    assert "Member levels saved." in r.get_data(as_text=True)
    levels = get_level_config(session, shop_id=shop.id)["levels"]
    assert [entry["discount_bps"] for entry in levels] == [0, 500, 1200, 0, 0]
    assert [entry["points_multiplier_percent"] for entry in levels] == [100, 100, 150, 100, 100]
    assert levels[2]["upgrade"] == {
        "match": "any",
        "spend": None,
        "orders": None,
        "points": None,
        "category": {"category_id": oolong.id, "spend": 100_000, "orders": 2},
    }
    page = client.get(f"/shops/{shop.id}/levels").get_data(as_text=True)
    assert 'name="levels-1-discount" placeholder="none" size="6" type="text" value="9.5"' in page
    assert 'value="8.8"' in page and 'value="1.5"' in page and 'value="1000.00"' in page
    assert f'<option selected value="{oolong.id}">' in page


def test_bad_perks_and_a_category_without_numbers_are_explained_beside_the_fields_and_nothing_is_saved(client, session):
    shop, other = ShopFactory(), ShopFactory()
    theirs = create_category(session, shop_id=other.id, name="别家的茶")
    mine = create_category(session, shop_id=shop.id, name="茶叶")
    session.commit()
    log_in_to_shop(client, shop.id)
    cases = [
        ({"levels-1-discount": "abc"}, "Enter a discount in 折 like 9.5 (members pay 95 percent), or leave it empty."),
        ({"levels-1-discount": "12.5"}, "A discount is above 0折 and below 10折."),
        ({"levels-1-points_multiplier": "20"}, "Enter a multiplier from 0 to 10, like 1.5 (at most two decimals)."),
        ({"levels-1-upgrade-category_id": mine.id}, "Give a spend or an order count in the category, or choose none."),
        ({"levels-1-upgrade-category_orders": "3"}, "Choose the category the spend or orders count in."),
        (
            {"levels-1-upgrade-category_id": theirs.id, "levels-1-upgrade-category_orders": "3"},
            "No such category in this shop.",
        ),
        (
            {
                "levels-1-upgrade-category_id": mine.id,
                "levels-1-upgrade-category_spend": "500",
                "levels-2-upgrade-category_id": mine.id,
                "levels-2-upgrade-category_spend": "100",
            },
            "Must be at least ¥500.00, the V2 upgrade threshold: higher levels are harder.",
        ),
    ]
    for overrides, reason in cases:
        r = client.post(f"/shops/{shop.id}/levels", data=_levels_form(**overrides))
        assert r.status_code == 422, overrides
        page = r.get_data(as_text=True)
        assert f'<span class="field-error">{reason}</span>' in page, re.findall(r"field-error\">[^<]*", page)
        assert get_level_config(session, shop_id=shop.id)["configured"] is False


def _tea(session, shop):
    product = create_product(
        session,
        shop_id=shop.id,
        title="铁观音",
        skus=[
            NewSku(code="TGY-250G", title="250克", price=12_000),
            NewSku(code="TGY-500G", title="500克", price=22_000),
        ],
    )
    session.commit()
    return product, sorted(product.skus, key=lambda sku: sku.code)


def _prices(session, shop_id):
    session.expire_all()
    rows = session.scalars(sa.select(MemberPrice).where(MemberPrice.shop_id == shop_id)).all()
    return {(row.sku_id, row.level): row.price for row in rows}


def test_the_grid_sets_changes_and_removes_a_member_price_in_yuan(client, session):
    shop = ShopFactory()
    product, (small, _large) = _tea(session, shop)
    log_in_to_shop(client, shop.id)
    assert "Member prices by level" in client.get(f"/shops/{shop.id}/products/{product.id}").get_data(as_text=True)
    url = f"/shops/{shop.id}/products/{product.id}/member-prices"
    page = client.get(url).get_data(as_text=True)
    assert "¥120.00" in page and "¥220.00" in page and page.count('class="no-member-price"') == 10

    cell = {"sku_id": small.id, "level": "2", "member_price_id": "", "version": "", "action": "save"}
    r = client.post(url, data=cell | {"price": "¥108"}, follow_redirects=True)
    assert "Member price set." in r.get_data(as_text=True)
    assert _prices(session, shop.id) == {(small.id, 2): 10_800}
    (price,) = session.scalars(sa.select(MemberPrice).where(MemberPrice.shop_id == shop.id))
    page = client.get(url).get_data(as_text=True)
    assert 'value="108.00"' in page and f'value="{price.id}"' in page

    changed = cell | {"member_price_id": price.id, "version": str(price.version), "price": "99.9"}
    r = client.post(url, data=changed, follow_redirects=True)
    assert "Member price changed." in r.get_data(as_text=True)
    assert _prices(session, shop.id) == {(small.id, 2): 9_990}

    r = client.post(url, data=changed | {"action": "remove", "version": str(price.version + 1)}, follow_redirects=True)
    assert "Member price removed" in r.get_data(as_text=True)
    assert _prices(session, shop.id) == {}


def test_a_price_above_the_list_price_a_stale_version_and_bad_amounts_change_nothing(client, session):
    shop = ShopFactory()
    product, (small, _large) = _tea(session, shop)
    price = create_member_price(session, shop_id=shop.id, sku_id=small.id, level=3, price=10_000)
    session.commit()
    log_in_to_shop(client, shop.id)
    url = f"/shops/{shop.id}/products/{product.id}/member-prices"
    cell = {"sku_id": small.id, "level": "2", "member_price_id": "", "version": "", "action": "save"}

    r = client.post(url, data=cell | {"price": "150"}, follow_redirects=True)
    assert "A member price (¥150.00) above the SKU&#39;s list price (¥120.00) would charge members more." in r.get_data(
        as_text=True
    )
    r = client.post(url, data=cell | {"price": "1.234"}, follow_redirects=True)
    assert "Enter an amount like 5 or 5.00 (at most two decimals)." in r.get_data(as_text=True)
    assert client.post(url, data=cell | {"price": "1\x00"}).status_code == 400
    r = client.post(url, data=cell | {"price": ""}, follow_redirects=True)
    assert "Enter the member price in yuan." in r.get_data(as_text=True)
    stale = cell | {"level": "3", "member_price_id": price.id, "version": str(price.version - 1), "price": "90"}
    r = client.post(url, data=stale, follow_redirects=True)
    assert "Fetch it again and retry." in r.get_data(as_text=True)
    r = client.post(url, data=stale | {"action": "remove"}, follow_redirects=True)
    assert "Fetch it again and retry." in r.get_data(as_text=True)
    assert _prices(session, shop.id) == {(small.id, 3): 10_000}

    client.get("/language/zh_CN")
    r = client.post(url, data=cell | {"price": "150"}, follow_redirects=True)
    assert "会员价" in r.get_data(as_text=True)
    assert _prices(session, shop.id) == {(small.id, 3): 10_000}


def test_another_shops_product_sku_or_member_price_is_not_found(client, session):
    shop, other = ShopFactory(), ShopFactory()
    product, (small, _large) = _tea(session, shop)
    their_product, (their_sku, _their_large) = _tea(session, other)
    theirs = create_member_price(session, shop_id=other.id, sku_id=their_sku.id, level=2, price=10_000)
    session.commit()
    log_in_to_shop(client, shop.id)
    url = f"/shops/{shop.id}/products/{product.id}/member-prices"
    assert client.get(f"/shops/{shop.id}/products/{their_product.id}/member-prices").status_code == 404
    assert client.get(f"/shops/{other.id}/products/{their_product.id}/member-prices").status_code == 404
    cell = {"sku_id": their_sku.id, "level": "2", "member_price_id": "", "version": "", "price": "1", "action": "save"}
    assert client.post(url, data=cell).status_code == 404
    assert client.post(url, data=cell | {"sku_id": small.id, "level": "9"}).status_code == 404
    tampered = cell | {"sku_id": small.id, "member_price_id": theirs.id, "version": str(theirs.version)}
    assert client.post(url, data=tampered).status_code == 404
    assert client.post(url, data=tampered | {"action": "remove"}).status_code == 404
    assert _prices(session, other.id) == {(their_sku.id, 2): 10_000}
    assert _prices(session, shop.id) == {}

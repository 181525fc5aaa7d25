"""The 360 page's coupon wallet (issued, used, expired, in yuan) and benefits (what the customer is entitled
to now and why, and the grants log), each read through its domain's services (docs/architecture.md §14)."""

from __future__ import annotations

import re

from factories import ShopFactory, log_in_to_shop
from souk_platform.benefits.services import create_package, grant_by_hand
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.coupons.services import create_coupon
from souk_platform.coupons.wallet import issue_coupon
from souk_platform.customers.services import create_customer
from souk_platform.members.perks import create_member_price
from souk_platform.members.services import get_level_config, save_level_config


def _section(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}".*?</section>', page, re.S)
    assert found, element_id
    return found[0]


def test_the_wallet_and_the_benefits_show_on_the_360_page_in_yuan_with_their_reasons(client, session, clock):
    shop = ShopFactory()
    fang = create_customer(session, shop_id=shop.id, name="王芳", phone="13800138001")
    fang.level = 2
    product = create_product(
        session, shop_id=shop.id, title="铁观音", skus=[NewSku(code="TGY-250G", title="250克", price=12_000)]
    )
    create_member_price(session, shop_id=shop.id, sku_id=product.skus[0].id, level=2, price=10_800)
    config = get_level_config(session, shop_id=shop.id)
    levels = [dict(entry) for entry in config["levels"]]
    levels[1] |= {"discount_bps": 500, "points_multiplier_percent": 150}
    save_level_config(
        session, shop_id=shop.id, window_days=365, downgrade_period_days=30, levels=levels, expected_version=0
    )
    coupon = create_coupon(
        session,
        shop_id=shop.id,
        fields={
            "code": "MAN100",
            "name": "满100减15",
            "kind": "threshold",
            "value": 1_500,
            "min_spend": 10_000,
            "distribution": "issued",
        },
    )
    issue_coupon(
        session,
        shop_id=shop.id,
        coupon_id=coupon.id,
        customer_id=fang.id,
        source="issue",
        source_id="i1",
        now=clock.now(),
    )
    package = create_package(
        session,
        shop_id=shop.id,
        fields={
            "name": "春季礼包",
            "trigger": "manual",
            "trigger_params": {},
            "items": [{"type": "free_shipping", "valid_days": 30}],
        },
    )
    grant_by_hand(
        session,
        shop_id=shop.id,
        package_id=package.id,
        customer_ids=[fang.id],
        period="2026-spring",
        note=None,
        now=clock.now(),
    )
    session.commit()
    log_in_to_shop(client, shop.id)

    page = client.get(f"/shops/{shop.id}/customers/{fang.id}").get_data(as_text=True)
    wallet = _section(page, "coupon-wallet")
    assert "满100减15" in wallet and "¥15.00 off orders of ¥100.00 or more" in wallet and "Usable" in wallet
    benefits = _section(page, "benefits")
    assert "9.5折 off list prices" in benefits and "×1.5 points on orders" in benefits
    assert "Member price ¥108.00 <code>TGY-250G</code>" in benefits and "The perk of level V2" in benefits
    assert "Free shipping" in benefits and "Granted package 春季礼包" in benefits
    grants = _section(page, "benefit-grants") if 'id="benefit-grants"' in page else benefits
    assert "春季礼包" in grants and "2026-spring" in grants and "Granted" in grants

    client.get("/language/zh_CN")
    page = client.get(f"/shops/{shop.id}/customers/{fang.id}").get_data(as_text=True)
    assert "9.5折" in _section(page, "benefits") and "V2 等级权益" in _section(page, "benefits")


def test_a_customer_with_nothing_shows_empty_wallet_and_benefits(client, session):
    shop = ShopFactory()
    fang = create_customer(session, shop_id=shop.id, name="王芳", phone="13800138001")
    session.commit()
    log_in_to_shop(client, shop.id)
    page = client.get(f"/shops/{shop.id}/customers/{fang.id}").get_data(as_text=True)
    assert "No coupons in this wallet yet." in page
    assert "No benefits at the moment." in page and "No benefits granted yet." in page

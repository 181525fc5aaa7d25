"""The back office's customer list (filters, spend in yuan) and 360 page (every domain's facts, tags, level)."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from factories import ShopFactory, log_in_to_shop
from souk_platform.behaviour.services import record_events
from souk_platform.catalog.services import create_product
from souk_platform.customers.models import Customer
from souk_platform.customers.services import create_customer
from souk_platform.members.models import MemberLevelChange
from souk_platform.points.services import award_points
from souk_platform.stored_value.services import top_up
from souk_platform.tags.models import CustomerTag
from souk_platform.tags.services import create_tag, tag_customers


def _customer(session, shop, name, phone, *, spent=0, level=1):
    customer = create_customer(session, shop_id=shop.id, name=name, phone=phone)
    customer.total_spent, customer.level = spent, level
    session.commit()
    return customer


def _names(page: str, names) -> list[str]:
    return sorted(n for n in names if f">{n}</a>" in page)


def test_the_list_filters_by_level_tag_text_and_a_spend_range_in_yuan(client, session, clock):
    shop = ShopFactory()
    fang = _customer(session, shop, "王芳", "13800138001", spent=50_000, level=2)
    _customer(session, shop, "李娜", "13800138002", spent=150_050, level=3)
    _customer(session, shop, "张伟", "13900000003", spent=0)
    vip = create_tag(session, shop_id=shop.id, name="老客户", now=clock.now())
    tag_customers(session, shop_id=shop.id, tag_id=vip.id, customer_ids=[fang.id])
    session.commit()
    log_in_to_shop(client, shop.id, role="staff")
    names = ("王芳", "李娜", "张伟")

    def listed(query):
        return _names(client.get(f"/shops/{shop.id}/customers?{query}").get_data(as_text=True), names)

    assert listed("") == sorted(names)
    assert listed("level=3") == ["李娜"]
    assert listed(f"tag={vip.id}") == ["王芳"]
    assert listed("q=1380013") == ["李娜", "王芳"]
    assert listed("min_spent=500&max_spent=1500.50") == ["李娜", "王芳"]
    assert listed("min_spent=500.01") == ["李娜"]


def test_a_bad_spend_filter_is_a_400_that_says_why_and_lists_no_one(client, session):
    shop = ShopFactory()
    _customer(session, shop, "王芳", "13800138001", spent=50_000)
    log_in_to_shop(client, shop.id)

    r = client.get(f"/shops/{shop.id}/customers?min_spent=abc")
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Enter an amount like 5 or 5.00 (at most two decimals)." in page and ">王芳</a>" not in page
    r = client.get(f"/shops/{shop.id}/customers?min_spent=10&max_spent=5")
    assert r.status_code == 400 and "The upper bound is below the lower bound." in r.get_data(as_text=True)
    assert client.get(f"/shops/{shop.id}/customers?level=9").status_code == 400


def test_the_360_page_shows_points_stored_value_tags_level_history_and_events(client, session, clock):
    shop = ShopFactory()
    fang = _customer(session, shop, "王芳", "13800138001")
    award_points(
        session,
        shop_id=shop.id,
        customer_id=fang.id,
        points=320,
        reason="welcome",
        reference=None,
        dedupe_key="welcome",
        now=clock.now(),
    )
    top_up(session, shop_id=shop.id, customer_id=fang.id, amount=20_000, reference=None, dedupe_key="t1")
    tea = create_product(session, shop_id=shop.id, title="西湖龙井")
    record_events(
        session,
        shop_id=shop.id,
        events=[
            {
                "event_id": "e1",
                "customer_id": fang.id,
                "type": "searched",
                "occurred_at": clock.now() - dt.timedelta(hours=1),
                "channel": "miniprogram",
                "properties": {"query": "龙井"},
            },
            {
                "event_id": "e2",
                "customer_id": fang.id,
                "type": "product_viewed",
                "occurred_at": clock.now() - dt.timedelta(minutes=30),
                "properties": {"product_id": tea.id},
            },
        ],
        now=clock.now(),
        retention=dt.timedelta(days=365),
    )
    session.commit()
    log_in_to_shop(client, shop.id)

    page = client.get(f"/shops/{shop.id}/customers/{fang.id}").get_data(as_text=True)
    assert 'id="points-balance">320<' in page
    assert 'id="stored-value-balance">¥200.00<' in page
    assert "Topped up" in page and ">Earned · welcome<" in page
    assert "Searched" in page and "“龙井”" in page and "miniprogram" in page
    assert "Viewed a product" in page and f'/products/{tea.id}">西湖龙井</a>' in page
    assert "The level has not changed yet." in page

    zh = client.get(f"/shops/{shop.id}/customers/{fang.id}", headers={"Accept-Language": "zh-CN"})
    assert "储值" in zh.get_data(as_text=True)


def test_tags_are_added_and_removed_on_the_360_page_but_a_rule_tag_is_refused(client, session, clock):
    shop = ShopFactory()
    fang = _customer(session, shop, "王芳", "13800138001")
    vip = create_tag(session, shop_id=shop.id, name="老客户", now=clock.now())
    rule = create_tag(
        session,
        shop_id=shop.id,
        name="高消费",
        kind="rule",
        condition={"op": "and", "conditions": [{"field": "total_spent", "cmp": "gte", "value": 100_000}]},
        now=clock.now(),
    )
    session.commit()
    log_in_to_shop(client, shop.id)
    base = f"/shops/{shop.id}/customers/{fang.id}"

    r = client.post(f"{base}/tags", data={"tag_id": vip.id}, follow_redirects=True)
    assert "Tag added." in r.get_data(as_text=True)
    r = client.post(f"{base}/tags", data={"tag_id": rule.id}, follow_redirects=True)
    assert "its customers come from its condition" in r.get_data(as_text=True)
    carried = set(session.scalars(sa.select(CustomerTag.tag_id).where(CustomerTag.customer_id == fang.id)))
    assert carried == {vip.id}

    r = client.post(f"{base}/tags/{vip.id}/remove", data={}, follow_redirects=True)
    assert "Tag removed." in r.get_data(as_text=True)
    assert session.scalars(sa.select(CustomerTag).where(CustomerTag.customer_id == fang.id)).all() == []


def test_a_level_set_by_hand_is_kept_in_the_history_and_a_blank_reason_is_refused(client, session):
    shop = ShopFactory()
    fang = _customer(session, shop, "王芳", "13800138001")
    log_in_to_shop(client, shop.id)
    base = f"/shops/{shop.id}/customers/{fang.id}"

    r = client.post(f"{base}/level", data={"level": "3", "reason": ""}, follow_redirects=True)
    assert "Choose a level and give a reason." in r.get_data(as_text=True)
    assert session.scalars(sa.select(MemberLevelChange)).all() == []

    r = client.post(f"{base}/level", data={"level": "3", "reason": "老朋友"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Level changed." in page and "V1 → V3" in page and "老朋友" in page
    session.expire_all()
    assert session.get(Customer, fang.id).level == 3


def test_another_shops_customers_stay_out_of_reach(client, session, clock):
    shop, other = ShopFactory(), ShopFactory()
    theirs = _customer(session, other, "别家", "13800138009")
    their_tag = create_tag(session, shop_id=other.id, name="别家标签", now=clock.now())
    mine = _customer(session, shop, "王芳", "13800138001")
    session.commit()
    log_in_to_shop(client, shop.id)

    assert client.get(f"/shops/{other.id}/customers").status_code == 404
    assert client.get(f"/shops/{shop.id}/customers/{theirs.id}").status_code == 404
    assert ">别家</a>" not in client.get(f"/shops/{shop.id}/customers").get_data(as_text=True)
    client.post(f"/shops/{shop.id}/customers/{theirs.id}/level", data={"level": "5", "reason": "x"})
    client.post(f"/shops/{shop.id}/customers/{mine.id}/tags", data={"tag_id": their_tag.id})
    client.post(f"/shops/{shop.id}/customers/{theirs.id}/tags", data={"tag_id": their_tag.id})
    session.expire_all()
    assert session.get(Customer, theirs.id).level == 1
    assert session.scalars(sa.select(CustomerTag).where(CustomerTag.tag_id == their_tag.id)).all() == []


def test_the_list_pages_newest_first_and_a_forged_cursor_is_a_400(client, session):
    shop = ShopFactory()
    for n in range(53):
        create_customer(session, shop_id=shop.id, name=f"客户{n:02d}", phone=f"1390000{n:04d}")
    session.commit()
    log_in_to_shop(client, shop.id)

    first = client.get(f"/shops/{shop.id}/customers?q=1390000").get_data(as_text=True)
    assert ">客户52</a>" in first and ">客户03</a>" in first and ">客户02</a>" not in first
    next_url = re.search(r'<a href="([^"]+)" rel="next">', first)[1].replace("&amp;", "&")
    assert "q=1390000" in next_url
    second = client.get(next_url).get_data(as_text=True)
    assert all(f">客户{n:02d}</a>" in second for n in range(3)) and ">客户03</a>" not in second
    assert 'rel="next"' not in second
    assert client.get(f"/shops/{shop.id}/customers?cursor=forged").status_code == 400

"""The demo seed, and the customers/levels/tags code paths on the embedded (SQLite) wiring."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.customers import demo
from souk_platform.customers.models import Customer, CustomerIdentity
from souk_platform.db import db
from souk_platform.members.services import get_level_config
from souk_platform.tags.models import Segment, Tag
from souk_platform.tags.services import estimate_reach


def test_demo_seed_builds_customers_levels_tags_and_a_segment_once(session):
    shop = ShopFactory()
    demo.seed(session, shop)
    demo.seed(session, shop)  # a second call adds nothing
    customers = session.scalars(sa.select(Customer).where(Customer.shop_id == shop.id)).all()
    assert len(customers) == len(demo.CUSTOMERS) == 12
    assert sorted(c.level for c in customers)[-4:] == [2, 2, 3, 4]
    assert sum(c.birthday is not None for c in customers) == 9
    assert {c.gender for c in customers} == {"female", "male", "unknown"}
    identities = session.scalars(sa.select(CustomerIdentity).where(CustomerIdentity.shop_id == shop.id)).all()
    assert sorted(i.provider for i in identities) == ["wechat_openid:wxdemo"] * 3 + ["wechat_unionid"]
    config = get_level_config(session, shop_id=shop.id)
    assert [lvl["name"] for lvl in config["levels"]] == ["普通会员", "银卡会员", "金卡会员", "铂金会员", "黑金会员"]
    tags = {t.name: t.kind for t in session.scalars(sa.select(Tag).where(Tag.shop_id == shop.id))}
    assert tags == {"老客户": "manual", "高消费": "rule"}
    [segment] = session.scalars(sa.select(Segment).where(Segment.shop_id == shop.id)).all()
    now = dt.datetime.now(dt.UTC)
    assert estimate_reach(session, shop_id=shop.id, condition=segment.condition, now=now) == 2  # V3 and V4 老客户


@pytest.mark.embedded
def test_purchases_levels_rule_tags_and_segments_on_sqlite(embedded_app):
    from souk_platform.customers.services import create_customer, record_purchase
    from souk_platform.members.services import evaluate_customer_level
    from souk_platform.tags.services import create_tag, evaluate_rule_tag

    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    with embedded_app.app_context():
        shop = ShopFactory()
        demo.seed(db.session, shop)
        customer = create_customer(db.session, shop_id=shop.id, name="SQLite 客户", phone="13700000000")
        record_purchase(db.session, shop_id=shop.id, customer_id=customer.id, order_id="o1", amount=60_000, at=now)
        record_purchase(db.session, shop_id=shop.id, customer_id=customer.id, order_id="o1", amount=60_000, at=now)
        change = evaluate_customer_level(db.session, shop_id=shop.id, customer_id=customer.id, now=now)
        assert change is not None and change.to_level == 2
        recent = {"op": "and", "conditions": [{"field": "last_order_at", "cmp": "within_days", "value": 7}]}
        tag = create_tag(db.session, shop_id=shop.id, name="近期", kind="rule", condition=recent, now=now)
        assert evaluate_rule_tag(db.session, shop_id=shop.id, tag_id=tag.id, now=now).customers_count == 1
        later = now + dt.timedelta(days=8)
        result = evaluate_rule_tag(db.session, shop_id=shop.id, tag_id=tag.id, now=later)
        assert (result.added, result.removed, result.customers_count) == (0, 1, 0)
        db.session.commit()
        assert db.session.get(Customer, customer.id).total_spent == 60_000
        db.session.remove()

"""Demo customers, member levels, tags and a segment for ``souk demo``."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_platform.core.clock import SystemClock
from souk_platform.customers.models import Customer
from souk_platform.customers.services import add_identity, create_customer
from souk_platform.db import DbSession
from souk_platform.members.services import save_level_config, set_customer_level
from souk_platform.shops.models import Shop
from souk_platform.tags.services import create_segment, create_tag, tag_customers
from souk_platform.tags.snapshots import take_snapshot

CUSTOMERS = (
    ("王芳", "13800138001", "wangfang@example.cn"),
    ("李娜", "13800138002", "lina@example.cn"),
    ("张伟", "13800138003", None),
    ("刘洋", "13800138004", "liuyang@example.cn"),
    ("陈静", "13800138005", None),
    ("杨磊", "13800138006", "yanglei@example.cn"),
    ("赵敏", "13800138007", None),
    ("黄丽", "13800138008", "huangli@example.cn"),
    ("周杰", "13800138009", None),
    ("吴婷", "13800138010", "wuting@example.cn"),
    ("徐强", "13800138011", None),
    ("孙悦", "13800138012", "sunyue@example.cn"),
)

# (birthday, gender, source channel) of each demo customer, in the order above.
PROFILES = (
    (dt.date(1990, 5, 17), "female", "mini_program"),
    (dt.date(1988, 12, 2), "female", "store"),
    (dt.date(1979, 3, 30), "male", "online"),
    (None, "male", "app"),
    (dt.date(1995, 8, 8), "female", "social"),
    (dt.date(1983, 1, 21), "male", "store"),
    (None, "unknown", "referral"),
    (dt.date(1992, 10, 1), "female", "mini_program"),
    (dt.date(1986, 6, 18), "male", "online"),
    (dt.date(1998, 2, 14), "female", "social"),
    (None, "unknown", "import"),
    (dt.date(2000, 7, 7), "female", "mini_program"),
)

LEVELS = [
    {"level": 1, "name": "普通会员", "upgrade": None, "keep": None},
    {
        "level": 2,
        "name": "银卡会员",
        "upgrade": {"match": "any", "spend": 50_000, "orders": 3, "points": None},
        "keep": {"match": "any", "spend": 20_000, "orders": 1, "points": None},
    },
    {
        "level": 3,
        "name": "金卡会员",
        "upgrade": {"match": "any", "spend": 200_000, "orders": 8, "points": None},
        "keep": {"match": "any", "spend": 100_000, "orders": 4, "points": None},
    },
    {
        "level": 4,
        "name": "铂金会员",
        "upgrade": {"match": "all", "spend": 500_000, "orders": 15, "points": None},
        "keep": {"match": "any", "spend": 300_000, "orders": None, "points": None},
    },
    {
        "level": 5,
        "name": "黑金会员",
        "upgrade": {"match": "all", "spend": 1_000_000, "orders": 30, "points": 5_000},
        "keep": {"match": "any", "spend": 600_000, "orders": None, "points": None},
    },
]


def seed(session: DbSession, shop: Shop) -> None:
    """About a dozen customers, V1–V5 rules, a manual and a rule tag, and one segment (once per shop)."""
    seeded = session.scalar(
        sa.select(Customer.id).where(Customer.shop_id == shop.id, Customer.phone == CUSTOMERS[0][1])
    )
    if seeded is not None:
        return
    now = SystemClock().now()
    customers = [
        create_customer(
            session,
            shop_id=shop.id,
            name=n,
            phone=p,
            email=e,
            birthday=birthday,
            gender=gender,
            source_channel=channel,
            now=now,
        )
        for (n, p, e), (birthday, gender, channel) in zip(CUSTOMERS, PROFILES, strict=True)
    ]
    # The mini-program customers signed in with WeChat: their openids (and a unionid) link them.
    for customer, (_birthday, _gender, channel) in zip(customers, PROFILES, strict=True):
        if channel == "mini_program":
            add_identity(
                session,
                shop_id=shop.id,
                customer_id=customer.id,
                provider="wechat_openid:wxdemo",
                external_id=f"o_demo_{customer.phone}",
            )
    add_identity(
        session, shop_id=shop.id, customer_id=customers[0].id, provider="wechat_unionid", external_id="u_demo_wangfang"
    )
    save_level_config(
        session, shop_id=shop.id, window_days=365, downgrade_period_days=30, levels=LEVELS, expected_version=None
    )
    for customer, level in zip(customers[:4], (3, 2, 2, 4), strict=True):
        set_customer_level(
            session, shop_id=shop.id, customer_id=customer.id, level=level, reason="迁移自旧会员系统 (demo)", now=now
        )
    vip = create_tag(session, shop_id=shop.id, name="老客户", description="店员手动标记的熟客", now=now)
    tag_customers(session, shop_id=shop.id, tag_id=vip.id, customer_ids=[c.id for c in customers[:5]])
    create_tag(
        session,
        shop_id=shop.id,
        name="高消费",
        kind="rule",
        description="累计消费满 1000 元",
        condition={"op": "and", "conditions": [{"field": "total_spent", "cmp": "gte", "value": 100_000}]},
        now=now,
    )
    segment = create_segment(
        session,
        shop_id=shop.id,
        name="金卡以上的老客户",
        description="V3 及以上，且带“老客户”标签",
        condition={
            "op": "and",
            "conditions": [
                {"field": "level", "cmp": "gte", "value": 3},
                {"field": "tag", "cmp": "has", "value": vip.id},
            ],
        },
    )
    # A 人群包 frozen for a campaign: its conversion shows on /segment-snapshots/{id}.
    take_snapshot(session, shop_id=shop.id, segment_id=segment.id, name="双十二金卡回访", now=now)

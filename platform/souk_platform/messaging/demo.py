"""Demo templates (生日关怀, 加购提醒, 新客欢迎), quiet hours and a few inbox messages for ``souk demo``
(docs/architecture.md §5.11)."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.core.clock import SystemClock
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.messaging.models import MessageTemplate
from souk_platform.messaging.services import create_template, ensure_built_in_channels, send_message
from souk_platform.shops.models import Shop
from souk_platform.shops.services import DEFAULT_SETTINGS

TEMPLATES = (
    {
        "name": "生日关怀",
        "channel_kind": "inbox",
        "subject": "生日快乐，{{ customer_name }}",
        "body": "亲爱的{{ level_name }}会员{{ customer_name }}，{{ shop_name }}祝你生日快乐！"
        "生日礼已放入你的账户，当前积分 {{ points_balance }}。",
        "variables": [],
    },
    {
        "name": "加购提醒",
        "channel_kind": "inbox",
        "subject": "你的购物车还有商品",
        "body": "{{ customer_name }}，你加购的{{ product_title }}还在购物车里，"
        "{% if coupon_code %}用券码 {{ coupon_code }} 再减一点，{% endif %}库存不多，别错过。",
        "variables": ["product_title"],
    },
    {
        "name": "新客欢迎",
        "channel_kind": "email",
        "subject": "欢迎来到{{ shop_name }}",
        "body": "<p>{{ customer_name }}，你好！</p><p>感谢注册{{ shop_name }}会员。"
        "{% if coupon_name %}送你一张{{ coupon_name }}（券码 {{ coupon_code }}），{% endif %}首单可用。</p>",
        "variables": [],
    },
)


def seed(session: DbSession, shop: Shop) -> None:
    """Built-in channels, three templates, inbox messages to the first customers, then 21:00–09:00 quiet hours."""
    seeded = session.scalar(sa.select(MessageTemplate.id).where(MessageTemplate.shop_id == shop.id).limit(1))
    if seeded is not None:
        return
    _email, inbox = ensure_built_in_channels(session, shop_id=shop.id)
    birthday, cart, _welcome = (create_template(session, shop_id=shop.id, fields=dict(t)) for t in TEMPLATES)
    now = SystemClock().now()
    customers = list(
        session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop.id).order_by(Customer.id).limit(3))
    )
    for index, customer_id in enumerate(customers):
        template, variables = (
            (birthday, {}) if index % 2 == 0 else (cart, {"product_title": "明前龙井", "coupon_code": "TEA10"})
        )
        send_message(
            session,
            shop_id=shop.id,
            customer_id=customer_id,
            channel_id=inbox.id,
            template_id=template.id,
            variables=variables,
            source="demo",
            idempotency_key=f"demo:{template.id}:{customer_id}",
            now=now,
        )
    shop.settings = {
        **DEFAULT_SETTINGS,
        **(shop.settings or {}),
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "09:00",
    }
    session.flush()

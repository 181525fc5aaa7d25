"""Demo coupons and promotions, coupons issued into customers' wallets, and some points and stored value."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import has_app_context

from souk_platform.core.clock import app_now
from souk_platform.coupons.issues import create_issue, run_issue
from souk_platform.coupons.packs import create_pack
from souk_platform.coupons.services import create_coupon
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.points.services import award_points
from souk_platform.shops.models import Shop
from souk_platform.stored_value.services import top_up

DEMO_COUPONS = (
    {"code": "MAN100JIAN15", "name": "满100减15", "kind": "threshold", "value": 1500, "min_spend": 10000},
    {"code": "JIUZHE", "name": "9折 10% off (max ¥50)", "kind": "percent", "value": 1000, "max_discount": 5000},
    {
        "code": None,
        "name": "满300减30 promotion / 自动满减",
        "kind": "threshold",
        "value": 3000,
        "min_spend": 30000,
        "auto_apply": True,
    },
)


# Issued (定向) coupons: only the customers they are issued to can use them.
DEMO_ISSUED_COUPON = {
    "code": "VIP30",
    "name": "会员专享 满199减30 / Members: ¥30 off ¥199",
    "kind": "threshold",
    "value": 3000,
    "min_spend": 19900,
    "distribution": "issued",
    "valid_days": 30,
    "per_customer_limit": 1,
}

DEMO_PACK_COUPON = {
    "code": "PACK5",
    "name": "券包专享 满50减5 / Pack: ¥5 off ¥50",
    "kind": "threshold",
    "value": 500,
    "min_spend": 5000,
    "distribution": "issued",
    "valid_days": 90,
}


def seed(session: DbSession, shop: Shop) -> None:
    """Three public coupons; an issued coupon in the wallets of five customers (issued the way a
    merchant does, as an issue with per-customer results); a coupon pack on sale; 200–1000 points and a
    ¥100–¥500 top-up for up to 10 existing customers."""
    now = app_now() if has_app_context() else dt.datetime.now(dt.UTC)
    for fields in DEMO_COUPONS:
        create_coupon(session, shop_id=shop.id, fields=dict(fields))
    vip = create_coupon(session, shop_id=shop.id, fields=dict(DEMO_ISSUED_COUPON))
    pack_coupon = create_coupon(session, shop_id=shop.id, fields=dict(DEMO_PACK_COUPON))
    first_customers = session.scalars(
        sa.select(Customer.id).where(Customer.shop_id == shop.id).order_by(Customer.id).limit(5)
    ).all()
    if first_customers:
        issue = create_issue(
            session, shop_id=shop.id, coupon_id=vip.id, customer_ids=list(first_customers), segment_id=None, now=now
        )
        session.commit()
        run_issue(session, issue_id=issue.id, now=now)
    create_pack(
        session,
        shop_id=shop.id,
        fields={
            "name": "超值券包 ¥9.9 买 ¥40 / Coupon pack: ¥40 of coupons for ¥9.90",
            "price": 990,
            "items": [{"coupon_id": vip.id, "quantity": 1}, {"coupon_id": pack_coupon.id, "quantity": 2}],
            "stock": 100,
            "per_customer_limit": 2,
            "refund_days": 7,
        },
    )
    customers = session.scalars(
        sa.select(Customer.id).where(Customer.shop_id == shop.id).order_by(Customer.id).limit(10)
    ).all()
    for n, customer_id in enumerate(customers):
        award_points(
            session,
            shop_id=shop.id,
            customer_id=customer_id,
            points=200 * (1 + n % 5),
            reason="Welcome points / 欢迎积分",
            reference=None,
            dedupe_key=f"demo:welcome:{customer_id}",
            now=now,
            kind="points.adjust",
        )
        top_up(
            session,
            shop_id=shop.id,
            customer_id=customer_id,
            amount=10000 * (1 + n % 5),
            reference="demo",
            dedupe_key=f"demo:top-up:{customer_id}",
        )

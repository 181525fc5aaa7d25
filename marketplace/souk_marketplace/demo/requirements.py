"""The requirement board 定制众筹, lived in: needs posted by the demo shop and its neighbours, pledges held
in escrow (through the real ``pledge``, so the money leaves each shop's balance), and proposals from
the demo developer and the demo studio on the first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from souk_marketplace.requirements import services as requirements
from souk_marketplace.requirements.models import Requirement
from souk_platform.auth.models import User
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop

# poster (0 = the demo shop, 1 and 2 its neighbours), texts, budget in fen, days to the deadline,
# selection, pledges as (backer, amount), proposals as (developer email, price, days to deliver, plan)
BOARD: tuple[dict[str, Any], ...] = (
    {
        "poster": 0,
        "title": "Birthday coupons sent automatically 生日自动发券",
        "description": "Send each member a coupon a week before their birthday, with the value set per member "
        "level, and show in the report how many were used. 会员生日前一周自动发券，面额按会员等级设置，并统计核销率。",
        "acceptance": "A V3 member with a birthday in 7 days gets the V3 coupon once; the report shows sent and used.",
        "category": "loyalty",
        "budget": 300_000,
        "days": 30,
        "selection": "owner",
        "pledges": ((0, 80_000), (1, 50_000), (2, 30_000)),
        "proposals": (
            (
                "dev@demo.souk.dev",
                280_000,
                18,
                "A member.level_changed and daily job app: coupons by level, a birthday report, ready in 18 days.",
            ),
            (
                "studio@demo.souk.dev",
                240_000,
                25,
                "我们为三家茶店做过类似功能：先交付发券，再交付报表。Coupons first, then the report.",
            ),
        ),
    },
    {
        "poster": 1,
        "title": "Mini-program orders synced into Souk 小程序订单同步",
        "description": "Orders placed in our WeChat mini-program should appear in Souk with their customer, so points "
        "and member levels count them. 小程序订单同步到 Souk，积分和会员等级一并计算。",
        "acceptance": "An order paid in the mini-program shows in Souk within a minute, with points earned.",
        "category": "integration",
        "budget": 500_000,
        "days": 45,
        "selection": "vote",
        "pledges": ((1, 120_000), (0, 60_000)),
        "proposals": (),
    },
    {
        "poster": 2,
        "title": "Tea-tasting bookings 品鉴会预约",
        "description": "Customers book a seat at a tasting and pay a deposit that becomes stored value when they "
        "come. 顾客预约品鉴会并支付定金，到场后转为储值。",
        "acceptance": "Booking, deposit, check-in and the conversion to stored value work from the shop's pages.",
        "category": "operations",
        "budget": 200_000,
        "days": 60,
        "selection": "owner",
        "pledges": ((2, 40_000),),
        "proposals": (),
    },
)


def seed(session: DbSession, shops: list[Shop], now: dt.datetime) -> None:
    """Post the board once (nothing when the demo shop has posted before or a neighbour is missing)."""
    if len(shops) < 3 or session.scalar(sa.select(Requirement.id).where(Requirement.shop_id == shops[0].id).limit(1)):
        return
    for need in BOARD:
        poster = shops[need["poster"]]
        req = requirements.post_requirement(
            session,
            shop_id=poster.id,
            posted_by=None,
            title=need["title"],
            description=need["description"],
            category=need["category"],
            budget_amount=need["budget"],
            currency=poster.currency,
            deadline=now + dt.timedelta(days=need["days"]),
            acceptance_criteria=need["acceptance"],
            selection_mode=need["selection"],
            now=now,
        )
        for backer, amount in need["pledges"]:
            requirements.pledge(
                session, shop_id=shops[backer].id, requirement_id=req.id, amount=amount, pledged_by=None, now=now
            )
        for email, price, days, plan in need["proposals"]:
            developer = session.scalar(sa.select(User).where(User.email == email))
            if developer is None:
                continue
            developer.is_developer = True
            requirements.submit_proposal(
                session,
                developer=developer,
                requirement_id=req.id,
                price_amount=price,
                delivery_date=(now + dt.timedelta(days=days)).date(),
                plan=plan,
                now=now,
            )

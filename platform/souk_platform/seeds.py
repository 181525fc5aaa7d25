"""The ordered demo seed steps of each domain (each domain's ``demo.py`` provides ``seed``)."""

from __future__ import annotations

from collections.abc import Callable

from souk_platform.apps import demo as apps_demo
from souk_platform.audience import demo as audience_demo
from souk_platform.behaviour import demo as behaviour_demo
from souk_platform.benefits import demo as benefits_demo
from souk_platform.catalog import demo as catalog_demo
from souk_platform.coupons import demo as loyalty_demo
from souk_platform.customers import demo as customers_demo
from souk_platform.db import DbSession
from souk_platform.installations import demo as installations_demo
from souk_platform.journeys import demo as journeys_demo
from souk_platform.journeys.engine import demo as journeys_engine_demo
from souk_platform.members import demo as members_demo
from souk_platform.messaging import demo as messaging_demo
from souk_platform.orders import demo as orders_demo
from souk_platform.points_mall import demo as points_mall_demo
from souk_platform.points_tasks import demo as points_tasks_demo
from souk_platform.reports import demo as reports_demo
from souk_platform.risk import demo as risk_demo
from souk_platform.shops.models import Shop

STEPS: list[tuple[str, Callable[[DbSession, Shop], None]]] = [
    ("Products and stock / 商品与库存", catalog_demo.seed),
    ("Customers, levels and tags / 顾客、等级与标签", customers_demo.seed),
    ("Level perks and member prices / 等级权益与会员价", members_demo.seed),
    ("Coupons, points and stored value / 优惠券、积分与储值", loyalty_demo.seed),
    ("Orders / 订单", orders_demo.seed),
    ("Today's orders for the dashboard / 概览页的今日订单", reports_demo.seed),
    ("Behaviour events / 行为事件", behaviour_demo.seed),
    ("Segments over filter fields / 按筛选字段圈人", audience_demo.seed),
    ("Benefit packages / 权益包", benefits_demo.seed),
    ("Message templates and the inbox / 消息模板与站内信", messaging_demo.seed),
    ("A day of risk decisions / 一天的风控记录", risk_demo.seed),
    ("The points mall / 积分商城", points_mall_demo.seed),
    ("Apps / 应用", apps_demo.seed),
    ("Installed apps / 已安装的应用", installations_demo.seed),
    ("Points tasks, sign-ins and the points policy / 积分任务、签到与积分规则", points_tasks_demo.seed),
    ("Journeys / 营销画布", journeys_demo.seed),
    ("Journeys with customers inside / 营销画布旅程与其中的顾客", journeys_engine_demo.seed),
]

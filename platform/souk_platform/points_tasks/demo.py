"""Points operations for ``souk demo`` (docs/architecture.md §5.15): the five earning tasks, a week of sign-ins
with streaks (one customer a day short of the 7-day bonus), a review, an invitation and a filled profile paid
through the same services as the API, and the shop's points policy."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_platform.core.clock import SystemClock
from souk_platform.core.errors import SoukError
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.points.policy import update_points_policy
from souk_platform.points_tasks import completions, services
from souk_platform.points_tasks.models import PointsTask
from souk_platform.shops.models import Shop

TASKS = (
    {
        "name": "每日签到",
        "kind": "daily_sign_in",
        "points": 5,
        "params": {"streak_bonuses": [{"days": 3, "points": 10}, {"days": 7, "points": 50}]},
    },
    {
        "name": "完善资料送积分",
        "kind": "complete_profile",
        "points": 50,
        "params": {"profile_fields": ["phone", "birthday"]},
    },
    {"name": "首单礼", "kind": "first_order", "points": 100},
    {"name": "晒单评价", "kind": "post_review", "points": 20, "daily_cap": 3},
    {"name": "邀请好友", "kind": "invite_friend", "points": 100, "total_cap": 10, "params": {"when": "registered"}},
)
# (customer index, days signed in up to today): a 6-day streak, a 3-day one (its bonus paid), today only
SIGN_INS = ((0, 6), (1, 3), (2, 1))


def seed(session: DbSession, shop: Shop) -> None:
    """Tasks, sign-ins, completions and the policy (once per shop)."""
    if session.scalar(sa.select(PointsTask.id).where(PointsTask.shop_id == shop.id).limit(1)) is not None:
        return
    customers = list(
        session.scalars(sa.select(Customer).where(Customer.shop_id == shop.id).order_by(Customer.id).limit(6))
    )
    if len(customers) < 4:
        return
    update_points_policy(
        session,
        shop_id=shop.id,
        changes={
            "points_per_yuan": 1,
            "point_value_fen": 1,
            "max_spend_ratio_bp": 5000,
            "max_points_per_order": 20_000,
        },
        expected_version=None,
    )
    tasks = {fields["kind"]: services.create_task(session, shop_id=shop.id, fields=fields) for fields in TASKS}
    now = SystemClock().now()
    for index, days in SIGN_INS:
        for back in range(days - 1, -1, -1):
            when = now - dt.timedelta(days=back)
            completions.sign_in(
                session,
                shop=shop,
                customer_id=customers[index].id,
                ip=f"10.0.210.{index + 1}",
                device_id=f"dev_demo_{index}",
                now=when,
            )
    reported = (
        (tasks["post_review"].id, customers[0].id, "rev_demo_0001"),
        (tasks["post_review"].id, customers[2].id, "rev_demo_0002"),
        (tasks["invite_friend"].id, customers[1].id, customers[3].id),
        (tasks["complete_profile"].id, customers[0].id, None),
    )
    for task_id, customer_id, reference in reported:
        try:
            with session.begin_nested():
                completions.complete_task(
                    session,
                    shop=shop,
                    task_id=task_id,
                    customer_id=customer_id,
                    reference=reference,
                    ip="10.0.210.9",
                    device_id=None,
                    now=now,
                )
        except SoukError:
            continue  # a demo customer without a phone or birthday: the task is simply not done yet

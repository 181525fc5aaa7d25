"""The demo's points operations are made through the services (docs/architecture.md §5.15)."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.ledger.services import check_invariants
from souk_platform.points_tasks.models import PointsTask, PointsTaskCompletion
from souk_platform.seeds import STEPS
from souk_platform.shops.services import shop_setting

STEP = "Points tasks, sign-ins and the points policy / 积分任务、签到与积分规则"


def test_the_demo_has_five_active_tasks_sign_in_streaks_and_a_policy(session):
    shop = ShopFactory()
    for _, step in STEPS:
        step(session, shop)
        session.commit()
    assert [name for name, _ in STEPS][-2:] == [
        "Journeys / 营销画布",
        "Journeys with customers inside / 营销画布旅程与其中的顾客",
    ]
    tasks = session.scalars(sa.select(PointsTask).where(PointsTask.shop_id == shop.id)).all()
    assert sorted(t.kind for t in tasks) == sorted(
        ["daily_sign_in", "complete_profile", "first_order", "post_review", "invite_friend"]
    )
    assert {t.status for t in tasks} == {"active"}
    done = session.scalars(sa.select(PointsTaskCompletion).where(PointsTaskCompletion.shop_id == shop.id)).all()
    streaks = sorted((c.streak for c in done if c.kind == "daily_sign_in"), reverse=True)
    assert streaks[0] == 6 and {c.status for c in done} == {"completed"}
    assert any(c.kind == "post_review" for c in done) and any(c.kind == "invite_friend" for c in done)
    assert shop_setting(shop, "points_max_per_order") == 20_000
    assert check_invariants(session) == []
    before = len(done)
    dict(STEPS)[STEP](session, shop)  # seeding again does nothing
    assert session.scalar(sa.select(sa.func.count()).where(PointsTaskCompletion.shop_id == shop.id)) == before

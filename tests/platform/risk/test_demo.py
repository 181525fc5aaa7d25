"""The demo's day of risk decisions is made of real checkouts (docs/architecture.md §5.13)."""

from __future__ import annotations

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.ledger.services import check_invariants
from souk_platform.risk.models import RiskDecision, RiskReview
from souk_platform.seeds import STEPS


def test_the_demo_has_a_day_of_decisions_with_two_in_review(session):
    shop = ShopFactory()
    for _, step in STEPS:
        step(session, shop)
        session.commit()
    outcomes = list(session.scalars(sa.select(RiskDecision.outcome).where(RiskDecision.shop_id == shop.id)))
    assert outcomes.count("deny") >= 1 and outcomes.count("review") == 2 and outcomes.count("allow") >= 4
    reviews = list(session.scalars(sa.select(RiskReview).where(RiskReview.shop_id == shop.id)))
    assert [r.status for r in reviews] == ["open", "open"]
    assert check_invariants(session) == []
    dict(STEPS)["A day of risk decisions / 一天的风控记录"](session, shop)  # seeding again does nothing
    assert session.scalar(sa.select(sa.func.count()).select_from(RiskReview).where(RiskReview.shop_id == shop.id)) == 2

"""Pledges, withdrawals and an acceptance racing on PostgreSQL with real commits: totals stay exact."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from marketplace.requirements.builders import balance, fund, make_developer, post

from factories import ShopFactory
from souk_marketplace.requirements import services
from souk_marketplace.requirements.errors import NotOpen, PledgeLocked, ProposalOverBudget
from souk_marketplace.requirements.models import Requirement, RequirementPledge
from souk_platform.auth.models import User
from souk_platform.db import db
from souk_platform.ledger.models import LedgerAccount
from souk_platform.ledger.services import check_invariants
from souk_platform.shops.models import Shop

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
SHOPS, ROUNDS, AMOUNT = 6, 12, 1_000


def _run(workers: list[threading.Thread]) -> None:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


@pytest.mark.concurrency
def test_parallel_pledges_and_withdrawals_keep_exact_totals_and_lock_at_acceptance(isolated_app: Any) -> None:
    with isolated_app.app_context():
        shops = [ShopFactory() for _ in range(SHOPS)]
        for shop in shops:
            fund(db.session, shop, 100_000)
        requirement_id = post(db.session, shops[0], NOW, budget_amount=1_000_000).id
        developer = make_developer(db.session, NOW, email="racer@example.com", submit=False)
        shop_ids, developer_id = [s.id for s in shops], developer.user.id
        db.session.remove()
    crashed: list[str] = []

    def pledger(shop_id: str) -> None:
        """Two threads per shop: each pledges ROUNDS times and withdraws every other pledge at once."""
        with isolated_app.app_context():
            try:
                for i in range(ROUNDS):
                    made = services.pledge(
                        db.session,
                        shop_id=shop_id,
                        requirement_id=requirement_id,
                        amount=AMOUNT,
                        pledged_by=None,
                        now=NOW,
                    )
                    db.session.commit()
                    if i % 2:
                        services.withdraw_pledge(db.session, shop_id=shop_id, pledge_id=made.id, now=NOW)
                        db.session.commit()
            except Exception as exc:  # surfaced below: a crashed thread fails the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    _run([threading.Thread(target=pledger, args=(shop_id,)) for shop_id in shop_ids for _ in range(2)])
    assert crashed == []
    expected = SHOPS * 2 * (ROUNDS // 2) * AMOUNT
    with isolated_app.app_context():
        requirement = db.session.get(Requirement, requirement_id)
        assert (requirement.pledged_total, requirement.backers_count) == (expected, SHOPS)
        for shop_id in shop_ids:
            assert balance(db.session, db.session.get(Shop, shop_id)) == 100_000 - 2 * (ROUNDS // 2) * AMOUNT
        proposal = services.submit_proposal(
            db.session,
            developer=db.session.get(User, developer_id),
            requirement_id=requirement_id,
            price_amount=expected // 2,
            delivery_date=(NOW + dt.timedelta(days=9)).date(),
            plan="Race-proof.",
            now=NOW,
        )
        db.session.commit()
        proposal_id = proposal.id
        active = {
            shop_id: list(
                db.session.scalars(
                    sa.select(RequirementPledge.id).where(
                        RequirementPledge.shop_id == shop_id, RequirementPledge.state == "active"
                    )
                )
            )
            for shop_id in shop_ids
        }
        db.session.remove()

    # Every backer tries to withdraw everything while the owner accepts: each withdrawal lands
    # before the acceptance or is refused after it, and the accepted price never exceeds what is left.
    outcomes: list[str] = []
    start = threading.Barrier(SHOPS + 1)

    def withdrawer(shop_id: str) -> None:
        with isolated_app.app_context():
            start.wait()
            for pledge_id in active[shop_id]:
                try:
                    services.withdraw_pledge(db.session, shop_id=shop_id, pledge_id=pledge_id, now=NOW)
                    db.session.commit()
                    outcomes.append("withdrawn")
                except PledgeLocked:
                    db.session.rollback()
                    outcomes.append("locked")
                except Exception as exc:
                    db.session.rollback()
                    crashed.append(repr(exc))
            db.session.remove()

    def acceptor() -> None:
        with isolated_app.app_context():
            start.wait()
            for _ in range(SHOPS):  # let some withdrawals through first
                db.session.execute(sa.select(1))
            try:
                services.accept_proposal(
                    db.session, shop_id=shop_ids[0], proposal_id=proposal_id, actor=services.SYSTEM, now=NOW
                )
                db.session.commit()
                outcomes.append("accepted")
            except (ProposalOverBudget, NotOpen) as exc:
                db.session.rollback()
                outcomes.append(type(exc).__name__)
            except Exception as exc:
                db.session.rollback()
                crashed.append(repr(exc))
            db.session.remove()

    _run([threading.Thread(target=withdrawer, args=(s,)) for s in shop_ids] + [threading.Thread(target=acceptor)])
    assert crashed == []
    print(
        f"\nrace: {outcomes.count('withdrawn')} withdrawn, {outcomes.count('locked')} refused as locked, "
        f"acceptance: {[o for o in outcomes if o not in ('withdrawn', 'locked')]}"
    )
    with isolated_app.app_context():
        requirement = db.session.get(Requirement, requirement_id)
        pledges = list(
            db.session.scalars(sa.select(RequirementPledge).where(RequirementPledge.requirement_id == requirement_id))
        )
        escrow = {
            a.owner_id: a.balance
            for a in db.session.scalars(sa.select(LedgerAccount).where(LedgerAccount.kind == "escrow.pledge"))
        }
        active_sum = sum(p.amount for p in pledges if p.state == "active")
        assert requirement.pledged_total == active_sum == sum(escrow[p.id] for p in pledges)
        assert all(escrow[p.id] == (p.amount if p.state == "active" else 0) for p in pledges)
        if "accepted" in outcomes:
            assert requirement.state == "funded" and requirement.pledged_total >= expected // 2
        else:
            assert requirement.state == "open"
        assert outcomes.count("withdrawn") + outcomes.count("locked") == sum(len(v) for v in active.values())
        assert check_invariants(db.session) == []
        db.session.remove()

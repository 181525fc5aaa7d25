from __future__ import annotations

import random
import threading

import pytest
import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.core.errors import InsufficientFunds
from souk_platform.db import db
from souk_platform.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from souk_platform.ledger.services import (
    LedgerImbalance,
    Leg,
    check_invariants,
    get_account,
    post_transfer,
)


def _accounts(session, shop_id, n=3, unit="PTS"):
    issued = get_account(session, shop_id=shop_id, kind="shop.points_issued", owner_id=shop_id, unit=unit)
    customers = [
        get_account(session, shop_id=shop_id, kind="customer.points", owner_id=f"cus_{i}", unit=unit) for i in range(n)
    ]
    return issued, customers


def test_transfer_moves_value_and_keeps_invariant(session):
    shop = ShopFactory()
    issued, (alice, bob, _) = _accounts(session, shop.id)
    post_transfer(session, shop_id=shop.id, kind="points.earn", legs=[Leg(issued, -500), Leg(alice, 500)])
    post_transfer(session, shop_id=shop.id, kind="points.gift", legs=[Leg(alice, -200), Leg(bob, 200)])
    assert (issued.balance, alice.balance, bob.balance) == (-500, 300, 200)
    assert check_invariants(session) == []


def test_overdraft_is_refused_and_writes_nothing(session):
    shop = ShopFactory()
    issued, (alice, bob, _) = _accounts(session, shop.id)
    post_transfer(session, shop_id=shop.id, kind="points.earn", legs=[Leg(issued, -100), Leg(alice, 100)])
    before = session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
    with pytest.raises(InsufficientFunds) as err:
        post_transfer(session, shop_id=shop.id, kind="points.gift", legs=[Leg(alice, -101), Leg(bob, 101)])
    assert err.value.extra["balance"] == 100
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == before
    assert alice.balance == 100


def test_unbalanced_transfer_is_a_programming_error(session):
    shop = ShopFactory()
    issued, (alice, _, _) = _accounts(session, shop.id)
    with pytest.raises(LedgerImbalance):
        post_transfer(session, shop_id=shop.id, kind="bad", legs=[Leg(issued, -1), Leg(alice, 2)])


def test_dedupe_key_makes_a_transfer_idempotent(session):
    shop = ShopFactory()
    issued, (alice, _, _) = _accounts(session, shop.id)
    first = post_transfer(
        session, shop_id=shop.id, kind="points.earn", legs=[Leg(issued, -5), Leg(alice, 5)], dedupe_key="o1:earn"
    )
    again = post_transfer(
        session, shop_id=shop.id, kind="points.earn", legs=[Leg(issued, -5), Leg(alice, 5)], dedupe_key="o1:earn"
    )
    assert first.id == again.id and alice.balance == 5


def test_invariant_check_catches_a_tampered_balance(session):
    shop = ShopFactory()
    issued, (alice, _, _) = _accounts(session, shop.id)
    post_transfer(session, shop_id=shop.id, kind="points.earn", legs=[Leg(issued, -5), Leg(alice, 5)])
    session.execute(sa.update(LedgerAccount).where(LedgerAccount.id == alice.id).values(balance=7))
    problems = check_invariants(session)
    assert any(alice.id in p and "caches 7" in p for p in problems)


@pytest.mark.concurrency
def test_parallel_transfers_keep_exact_balances(app):
    """Hundreds of concurrent transfers on PostgreSQL: no lost update, no overdraft, invariant exact."""
    with app.app_context():
        shop = ShopFactory()
        issued, customers = _accounts(db.session, shop.id, n=4)
        post_transfer(
            db.session,
            shop_id=shop.id,
            kind="seed",
            legs=[Leg(issued, -4000)] + [Leg(c, 1000) for c in customers],
        )
        db.session.commit()
        ids = [c.id for c in customers]
        shop_id = shop.id
    refused, done, crashed = [], [], []
    rng = random.Random(7)
    plans = [[(rng.randrange(4), rng.randrange(4), rng.randrange(1, 400)) for _ in range(40)] for _ in range(8)]

    def worker(plan):
        with app.app_context():
            try:
                for src, dst, amount in plan:
                    if src == dst:
                        continue
                    a = db.session.get(LedgerAccount, ids[src])
                    b = db.session.get(LedgerAccount, ids[dst])
                    try:
                        post_transfer(
                            db.session, shop_id=shop_id, kind="points.gift", legs=[Leg(a, -amount), Leg(b, amount)]
                        )
                        db.session.commit()
                        done.append(amount)
                    except InsufficientFunds:
                        db.session.rollback()
                        refused.append(amount)
            except Exception as exc:  # surfaced below: a crashed thread must fail the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(p,)) for p in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    assert len(done) + len(refused) == sum(1 for p in plans for s, d, _ in p if s != d)
    assert len(done) > 200
    with app.app_context():
        transfers = db.session.scalar(
            sa.select(sa.func.count()).select_from(LedgerTransfer).where(LedgerTransfer.shop_id == shop_id)
        )
        assert transfers == len(done) + 1
        balances = db.session.scalars(sa.select(LedgerAccount.balance).where(LedgerAccount.id.in_(ids))).all()
        assert sum(balances) == 4000
        assert min(balances) >= 0
        assert check_invariants(db.session) == []
        db.session.remove()

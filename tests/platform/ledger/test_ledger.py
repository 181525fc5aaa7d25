from __future__ import annotations

import random
from functools import partial

import pytest
import sqlalchemy as sa
from races import race

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


def _seeded_shop(app, balances):
    """A committed shop whose customers' points accounts hold ``balances``; returns (shop id, account ids)."""
    with app.app_context():
        shop = ShopFactory()
        issued, customers = _accounts(db.session, shop.id, n=len(balances))
        legs = [Leg(issued, -sum(balances))] + [Leg(c, b) for c, b in zip(customers, balances, strict=True)]
        post_transfer(db.session, shop_id=shop.id, kind="seed", legs=legs)
        db.session.commit()
        result = shop.id, [c.id for c in customers]
        db.session.remove()
    return result


def _run_in_threads(app, shop_id, ids, plans):
    """Each plan runs in its own thread and session, released together; returns (done, refused)."""
    done, refused = [], []

    def worker(plan):
        for src, dst, amount in plan:
            a = db.session.get(LedgerAccount, ids[src])
            b = db.session.get(LedgerAccount, ids[dst])
            try:
                post_transfer(db.session, shop_id=shop_id, kind="points.gift", legs=[Leg(a, -amount), Leg(b, amount)])
                db.session.commit()
                done.append(amount)
            except InsufficientFunds:
                db.session.rollback()
                refused.append(amount)

    race(*(partial(worker, plan) for plan in plans), app=app)
    return done, refused


def _balances(app, shop_id, ids):
    with app.app_context():
        rows = {
            account_id: balance
            for account_id, balance in db.session.execute(
                sa.select(LedgerAccount.id, LedgerAccount.balance).where(LedgerAccount.id.in_(ids))
            )
        }
        problems = check_invariants(db.session)
        transfers = db.session.scalar(
            sa.select(sa.func.count()).select_from(LedgerTransfer).where(LedgerTransfer.shop_id == shop_id)
        )
        db.session.remove()
    return [rows[i] for i in ids], problems, transfers


@pytest.mark.concurrency
def test_parallel_transfers_keep_exact_balances(app):
    """320 concurrent transfers among 4 accounts on PostgreSQL: no lost update, balances exact."""
    shop_id, ids = _seeded_shop(app, [100_000] * 4)
    rng = random.Random(7)
    plans = [
        [(src, (src + rng.randrange(1, 4)) % 4, rng.randrange(1, 400)) for src in rng.choices(range(4), k=40)]
        for _ in range(8)
    ]
    expected = [100_000] * 4
    for plan in plans:
        for src, dst, amount in plan:
            expected[src] -= amount
            expected[dst] += amount

    done, refused = _run_in_threads(app, shop_id, ids, plans)

    assert refused == []  # balances are large enough for every transfer
    assert len(done) == 320
    balances, problems, transfers = _balances(app, shop_id, ids)
    assert balances == expected  # every concurrent update landed: none lost, none doubled
    assert problems == []
    assert transfers == 321  # the seed and every gift


@pytest.mark.concurrency
def test_parallel_overdrafts_are_refused_exactly(app):
    """20 threads each try to move 100 points out of an account holding 1,000: exactly 10 succeed."""
    shop_id, ids = _seeded_shop(app, [1_000, 0])

    done, refused = _run_in_threads(app, shop_id, ids, [[(0, 1, 100)] for _ in range(20)])

    assert (len(done), len(refused)) == (10, 10)
    balances, problems, transfers = _balances(app, shop_id, ids)
    assert balances == [0, 1_000] and problems == [] and transfers == 11

"""record_purchase under real concurrency (PostgreSQL, real commits): exact totals, retries count once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.customers.models import Customer, CustomerPurchase
from souk_platform.customers.services import create_customer, record_purchase
from souk_platform.db import db


@pytest.mark.concurrency
def test_parallel_purchases_and_retries_keep_exact_totals(app):
    with app.app_context():
        shop = ShopFactory()
        customer = create_customer(db.session, shop_id=shop.id, name="Busy")
        db.session.commit()
        shop_id, customer_id = shop.id, customer.id
        db.session.remove()
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    crashed: list[str] = []

    def worker(n: int) -> None:
        with app.app_context():
            try:
                for i in range(10):
                    # Every order is sent by two threads: a payment callback and its retry.
                    order = f"ord_{(n // 2) * 10 + i}"
                    record_purchase(
                        db.session, shop_id=shop_id, customer_id=customer_id, order_id=order, amount=100, at=at
                    )
                    db.session.commit()
            except Exception as exc:  # surfaced below: a crashed thread must fail the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        assert (customer.orders_count, customer.total_spent) == (40, 4_000)
        rows = db.session.scalar(
            sa.select(sa.func.count()).select_from(CustomerPurchase).where(CustomerPurchase.customer_id == customer_id)
        )
        assert rows == 40
        db.session.remove()

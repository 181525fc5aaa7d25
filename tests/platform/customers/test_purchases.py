"""record_purchase / record_refund: the totals orders keep on customers, retried safely."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.customers.errors import CustomerNotFound, InvalidPurchase
from souk_platform.customers.models import CustomerPurchase
from souk_platform.customers.services import create_customer, record_purchase, record_refund

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _rows(session, customer_id):
    return list(
        session.scalars(
            sa.select(CustomerPurchase).where(CustomerPurchase.customer_id == customer_id).order_by(CustomerPurchase.at)
        )
    )


def test_purchases_and_refunds_keep_totals_and_retries_count_once(session):
    shop = ShopFactory()
    customer = create_customer(session, shop_id=shop.id, name="A")
    for _ in range(2):  # a retried payment callback
        record_purchase(session, shop_id=shop.id, customer_id=customer.id, order_id="ord_1", amount=10_000, at=T0)
    record_purchase(
        session, shop_id=shop.id, customer_id=customer.id, order_id="ord_2", amount=5_000, at=T0 + dt.timedelta(days=1)
    )
    for _ in range(2):
        record_refund(
            session, shop_id=shop.id, customer_id=customer.id, order_id="ord_1", amount=3_000, at=T0, refund_id="ref_1"
        )
    record_refund(
        session, shop_id=shop.id, customer_id=customer.id, order_id="ord_1", amount=3_000, at=T0, refund_id="ref_2"
    )
    session.commit()
    assert (customer.orders_count, customer.total_spent) == (2, 9_000)
    assert customer.last_order_at == T0 + dt.timedelta(days=1)
    rows = _rows(session, customer.id)
    assert sorted(r.amount for r in rows) == [-3_000, -3_000, 5_000, 10_000]
    assert [r.counts_as_order for r in rows if r.amount < 0] == [False, False]


def test_an_older_purchase_does_not_move_last_order_back(session):
    shop = ShopFactory()
    customer = create_customer(session, shop_id=shop.id, name="A")
    record_purchase(session, shop_id=shop.id, customer_id=customer.id, order_id="o2", amount=1, at=T0)
    record_purchase(
        session, shop_id=shop.id, customer_id=customer.id, order_id="o1", amount=1, at=T0 - dt.timedelta(days=3)
    )
    assert customer.last_order_at == T0


def test_bad_amounts_and_foreign_customers_are_refused(session):
    shop, other = ShopFactory(), ShopFactory()
    customer = create_customer(session, shop_id=shop.id, name="A")
    session.commit()
    for amount in (-5, 1.5, True):
        with pytest.raises(InvalidPurchase):
            record_purchase(session, shop_id=shop.id, customer_id=customer.id, order_id="o", amount=amount, at=T0)
    with pytest.raises(InvalidPurchase):
        record_refund(session, shop_id=shop.id, customer_id=customer.id, order_id="o", amount=0, at=T0)
    with pytest.raises(CustomerNotFound):
        record_purchase(session, shop_id=other.id, customer_id=customer.id, order_id="o", amount=1, at=T0)
    assert _rows(session, customer.id) == [] and customer.total_spent == 0


def test_an_order_paid_entirely_with_points_counts_as_an_order(session):
    shop = ShopFactory()
    customer = create_customer(session, shop_id=shop.id, name="A")
    record_purchase(session, shop_id=shop.id, customer_id=customer.id, order_id="ord_points", amount=0, at=T0)
    assert (customer.orders_count, customer.total_spent, customer.last_order_at) == (1, 0, T0)

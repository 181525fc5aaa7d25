"""Parallel checkouts on PostgreSQL, committing for real: stock is never oversold."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.models import Sku
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import db
from souk_platform.orders.models import Order


@pytest.mark.concurrency
def test_parallel_checkouts_never_oversell(app):
    with app.app_context():
        shop = ShopFactory()
        product = create_product(
            db.session,
            shop_id=shop.id,
            title="Limited tin",
            status="active",
            skus=[NewSku(code="TIN", title="Tin", price=8800, on_hand=5)],
        )
        sku_id = product.skus[0].id
        db.session.commit()
        headers = token_for(shop)
        shop_id = shop.id
        client = app.test_client()
        carts = []
        for _ in range(12):
            r = client.post("/api/v1/carts", json={"lines": [{"sku_id": sku_id, "quantity": 1}]}, headers=headers)
            assert r.status_code == 201, r.get_json()
            carts.append(r.get_json()["id"])
        db.session.remove()

    statuses: list[int] = []
    crashed: list[str] = []
    start = threading.Barrier(len(carts))

    def buyer(cart_id: str) -> None:
        with app.app_context():
            try:
                start.wait()
                r = app.test_client().post(f"/api/v1/carts/{cart_id}/checkout", json={}, headers=headers)
                if r.status_code == 409:
                    assert r.get_json()["type"].endswith("/out-of-stock"), r.get_json()
                statuses.append(r.status_code)
            except Exception as exc:  # surfaced below: a crashed thread must fail the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buyer, args=(cart_id,)) for cart_id in carts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    assert sorted(statuses) == [201] * 5 + [409] * 7
    with app.app_context():
        sku = db.session.get(Sku, sku_id)
        assert (sku.on_hand, sku.reserved) == (5, 5)
        orders = db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.shop_id == shop_id))
        assert orders == 5
        db.session.remove()

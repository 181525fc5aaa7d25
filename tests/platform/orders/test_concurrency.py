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


@pytest.mark.concurrency
def test_parallel_multi_line_checkouts_never_oversell_nor_deadlock(app):
    """Sixteen carts of several lines, listed in opposite orders, race for three SKUs: each checkout is 201
    or a clean 409, and every SKU's ``reserved`` is exactly what the placed orders hold."""
    with app.app_context():
        shop = ShopFactory()
        product = create_product(
            db.session,
            shop_id=shop.id,
            title="Tasting set",
            status="active",
            skus=[NewSku(code=code, title=code, price=1000, on_hand=7) for code in ("A", "B", "C")],
        )
        a, b, c = (sku.id for sku in sorted(product.skus, key=lambda s: s.code))
        db.session.commit()
        headers = token_for(shop)
        shop_id = shop.id
        client = app.test_client()
        baskets = [[(a, 1), (b, 1), (c, 1)], [(c, 2), (b, 1), (a, 1)]]
        carts = []
        for n in range(16):
            lines = [{"sku_id": sku_id, "quantity": q} for sku_id, q in baskets[n % 2]]
            r = client.post("/api/v1/carts", json={"lines": lines}, headers=headers)
            assert r.status_code == 201, r.get_json()
            carts.append((r.get_json()["id"], n % 2))
        db.session.remove()

    statuses: list[int] = []
    refused: list[int] = []
    crashed: list[str] = []
    start = threading.Barrier(len(carts))

    def buyer(cart_id: str, basket: int) -> None:
        with app.app_context():
            try:
                start.wait()
                r = app.test_client().post(f"/api/v1/carts/{cart_id}/checkout", json={}, headers=headers)
                assert r.status_code in (201, 409), r.get_json()
                if r.status_code == 409:
                    assert r.get_json()["type"].endswith("/out-of-stock"), r.get_json()
                    refused.append(basket)
                statuses.append(r.status_code)
            except Exception as exc:  # surfaced below: a crashed thread (a deadlock, say) must fail the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buyer, args=cart) for cart in carts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    with app.app_context():
        placed = db.session.scalars(sa.select(Order).where(Order.shop_id == shop_id)).all()
        assert len(placed) == statuses.count(201) >= 3
        held = {a: 0, b: 0, c: 0}
        for order in placed:
            for line in order.lines:
                held[line.sku_id] += line.quantity
        stock = {sku_id: db.session.get(Sku, sku_id) for sku_id in held}
        assert {sku_id: (sku.on_hand, sku.reserved) for sku_id, sku in stock.items()} == {
            sku_id: (7, quantity) for sku_id, quantity in held.items()
        }
        # Stock only went down during the race, so a basket refused then still does not fit now.
        assert all(any(held[sku_id] + q > 7 for sku_id, q in baskets[basket]) for basket in refused)
        db.session.remove()

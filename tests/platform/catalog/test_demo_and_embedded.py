"""The demo catalog, and stock moves on the embedded (SQLite) wiring."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.catalog import demo
from souk_platform.catalog.models import Product, Sku
from souk_platform.catalog.services import NewSku, commit_stock, create_product, reserve_stock, skus_for_sale
from souk_platform.db import db


def test_demo_seed_builds_a_sellable_tea_catalog_once(session):
    shop = ShopFactory()
    demo.seed(session, shop)
    demo.seed(session, shop)  # a second call adds nothing
    products = session.scalars(sa.select(Product).where(Product.shop_id == shop.id)).all()
    assert len(products) == len(demo.PRODUCTS) == 8
    assert all(1 <= len(p.skus) <= 3 for p in products)
    active = [sku.id for p in products if p.status == "active" for sku in p.skus]
    for_sale = skus_for_sale(session, shop_id=shop.id, sku_ids=active)
    assert len(for_sale) == len(active) and all(s.unit_price > 0 and s.currency == "CNY" for s in for_sale.values())


@pytest.mark.embedded
def test_reserve_and_commit_on_sqlite(embedded_app):
    with embedded_app.app_context():
        shop = ShopFactory()
        product = create_product(
            db.session, shop_id=shop.id, title="Keemun", status="active", skus=[NewSku("KM-SQLITE", "100g", 8800, 3)]
        )
        sku_id = product.skus[0].id
        later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        reserve_stock(db.session, shop_id=shop.id, ref="ord_sqlite", quantities={sku_id: 2}, expires_at=later)
        commit_stock(db.session, shop_id=shop.id, ref="ord_sqlite")
        db.session.commit()
        db.session.expire_all()
        sku = db.session.get(Sku, sku_id)
        assert (sku.on_hand, sku.reserved, sku.version) == (1, 0, 3)
        db.session.remove()

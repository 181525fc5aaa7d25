"""A stock count sent from the product page while a sale holds the SKU, on PostgreSQL with real commits:
the count waits for the sale, sees that the SKU changed since the page was rendered and is refused,
instead of applying its difference to a figure the merchant never saw (docs/architecture.md §14)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from factories import form_key
from souk_platform.auth.services import create_user
from souk_platform.catalog.models import InventoryAdjustment, Sku
from souk_platform.catalog.services import NewSku, adjust_inventory, create_product
from souk_platform.db import db
from souk_platform.shops.models import Shop
from souk_platform.shops.services import add_staff


@pytest.mark.concurrency
def test_a_stock_count_racing_a_sale_is_refused_and_the_sale_is_kept(own_database):
    app, _ = own_database
    with app.app_context():
        shop = Shop(name="Race shop", currency="CNY", settings={})
        db.session.add(shop)
        db.session.flush()
        product = create_product(
            db.session, shop_id=shop.id, title="Tea", skus=[NewSku(code="T-1", title="Tin", price=5000, on_hand=10)]
        )
        owner = create_user(db.session, email="owner@race.example", name="Olive", password="correct horse")
        add_staff(db.session, shop_id=shop.id, user=owner, role="owner")
        db.session.commit()
        shop_id, product_id, category_id, version = shop.id, product.id, product.category_id, product.version
        sku_id, sku_version = product.skus[0].id, product.skus[0].version

    client = app.test_client()
    assert client.post("/login", data={"email": "owner@race.example", "password": "correct horse"}).status_code == 302
    form = {
        "version": str(version),
        "title": "Tea",
        "status": "active",
        "category_id": category_id,
        "form_key": form_key(),
        "skus-0-sku_id": sku_id,
        "skus-0-version": str(sku_version),
        "skus-0-title": "Tin",
        "skus-0-price": "50.00",
        "skus-0-on_hand": "7",  # counted on a page that showed 10
    }
    sale_holds_lock, results = threading.Event(), {}

    def sale() -> None:
        with app.app_context():
            adjust_inventory(db.session, shop_id=shop_id, sku_id=sku_id, delta=-2, reason="sold at the till")
            sale_holds_lock.set()
            threading.Event().wait(0.5)  # the count arrives and waits on the SKU's row lock meanwhile
            db.session.commit()

    seller = threading.Thread(target=sale)
    seller.start()
    assert sale_holds_lock.wait(5)
    results["count"] = client.post(f"/shops/{shop_id}/products/{product_id}", data=form)
    seller.join()

    assert results["count"].status_code == 422
    assert "Fetch it again and retry." in results["count"].get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Sku, sku_id).on_hand == 8
        deltas = db.session.scalars(
            sa.select(InventoryAdjustment.delta)
            .where(InventoryAdjustment.sku_id == sku_id)
            .order_by(InventoryAdjustment.id)
        ).all()
        assert deltas == [10, -2]

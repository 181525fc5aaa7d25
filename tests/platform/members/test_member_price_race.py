"""Member prices under concurrent writes on PostgreSQL, with real commits: the same (SKU, level) set at once is
stored once (the others 409, nothing half-written), and two changes from the same version leave one winner
(the other 412)."""

from __future__ import annotations

from functools import partial

import pytest
import sqlalchemy as sa
from races import race

from souk_platform.auth.scopes import all_scopes
from souk_platform.auth.services import create_access_token
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.members.models import MemberPrice
from souk_platform.shops.models import Shop

THREADS = 4


@pytest.mark.concurrency
def test_concurrent_writes_of_one_member_price(own_database):
    app, _ = own_database
    with app.app_context():
        shop = Shop(name="Race shop", currency="CNY", settings={})
        db.session.add(shop)
        db.session.flush()
        product = create_product(
            db.session,
            shop_id=shop.id,
            title="Tea",
            status="active",
            skus=[NewSku(code=f"T-{i}", title=f"T{i}", price=5000, on_hand=5) for i in range(3)],
        )
        sku_ids = [sku.id for sku in product.skus]
        _, token = create_access_token(db.session, shop_id=shop.id, name="t", scopes=all_scopes(), created_by=None)
        db.session.commit()
        shop_id = shop.id
    headers = {"Authorization": f"Bearer {token}"}
    for sku_id in sku_ids:
        bodies = [{"sku_id": sku_id, "level": 3, "price": 4000 + i} for i in range(THREADS)]
        results = race(
            *(partial(app.test_client().post, "/api/v1/member-prices", json=b, headers=headers) for b in bodies)
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201] + [409] * (THREADS - 1), [r.get_json() for r in results]
        winner = next(r.get_json() for r in results if r.status_code == 201)
        assert {r.get_json()["member_price_id"] for r in results if r.status_code == 409} == {winner["id"]}
        url = f"/api/v1/member-prices/{winner['id']}"
        patched = race(
            *(
                partial(app.test_client().patch, url, json={"price": 3000 + i}, headers={**headers, "If-Match": '"1"'})
                for i in range(2)
            )
        )
        assert sorted(r.status_code for r in patched) == [200, 412], [r.get_json() for r in patched]
    with app.app_context():
        rows = db.session.scalars(sa.select(MemberPrice).where(MemberPrice.shop_id == shop_id)).all()
        assert sorted(r.sku_id for r in rows) == sorted(sku_ids) and {r.version for r in rows} == {2}
        types = db.session.scalars(sa.select(OutboxEvent.type).where(OutboxEvent.shop_id == shop_id)).all()
        assert types.count("member_price.created") == 3 and types.count("member_price.updated") == 3

"""``db.in_ids``: a read of many rows by id is one array parameter on PostgreSQL, the same SQL for any count."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from factories import ShopFactory
from souk_platform.catalog.models import Sku
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.catalog.services.stock import skus_for_sale
from souk_platform.db import in_ids


def _sent(session: Any) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []
    event.listen(
        session.connection(), "before_cursor_execute", lambda c, cur, stmt, params, *a: sent.append((stmt, params))
    )
    return sent


def test_on_postgresql_the_ids_travel_as_one_array_and_the_sql_is_the_same_for_any_count(session: Any) -> None:
    shop = ShopFactory()
    skus = [NewSku(code=f"K{n}", title="100g", price=100 + n, on_hand=5) for n in range(30)]
    product = create_product(session, shop_id=shop.id, title="Tea", status="active", skus=skus)
    ids = sorted(sku.id for sku in product.skus)
    sent = _sent(session)

    one = skus_for_sale(session, shop_id=shop.id, sku_ids=ids[:1])
    many = skus_for_sale(session, shop_id=shop.id, sku_ids=ids)

    assert set(one) == set(ids[:1]) and set(many) == set(ids)
    sku_reads = [(stmt, params) for stmt, params in sent if stmt.lstrip().startswith("SELECT skus.")]
    assert len(sku_reads) == 2 and sku_reads[0][0] == sku_reads[1][0]  # one statement text, one plan
    assert "= ANY (" in sku_reads[0][0] and " IN (" not in sku_reads[0][0]
    assert sorted(next(v for v in sku_reads[1][1].values() if isinstance(v, list))) == ids
    other = ShopFactory()
    assert skus_for_sale(session, shop_id=other.id, sku_ids=[]) == {}


def test_elsewhere_it_is_in() -> None:
    engine = sa.create_engine("sqlite://")
    with Session(engine) as session:
        clause = in_ids(session, Sku.id, ["sku_a", "sku_b"])
        compiled = str(clause.compile(engine, compile_kwargs={"literal_binds": True}))
    assert compiled == "skus.id IN ('sku_a', 'sku_b')"

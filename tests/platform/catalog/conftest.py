"""Builders for catalog tests: products with SKUs made through the services, committed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import db


@dataclass(frozen=True)
class Made:
    """Plain ids of what was built (ORM objects expire when a request rolls the session back)."""

    id: str
    shop_id: str
    title: str
    sku_ids: list[str]


@pytest.fixture
def make_product(session: Any) -> Callable[..., Made]:
    """``make_product(shop, status="active", skus=[("CODE", price, on_hand), ...])`` → ids, committed."""
    counter = iter(range(1_000_000))

    def build(shop: Any, *, status: str = "active", title: str | None = None, skus: Any = None) -> Made:
        n = next(counter)
        specs = skus if skus is not None else [(f"SKU-{n}", 1000, 10)]
        product = create_product(
            db.session,
            shop_id=shop.id,
            title=title or f"Product {n}",
            status=status,
            skus=[
                NewSku(code=code, title=f"{code} title", price=price, on_hand=on_hand) for code, price, on_hand in specs
            ],
        )
        made = Made(product.id, shop.id, product.title, [sku.id for sku in product.skus])
        db.session.commit()
        return made

    return build

"""A shop with two SKUs and a customer, built through the domains' services and committed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from factories import ShopFactory, token_for
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.customers.services import create_customer


@dataclass(frozen=True)
class Store:
    shop_id: str
    headers: dict[str, str]
    product_id: str
    tea: str  # 5000 fen, 10 on hand
    cup: str  # 2000 fen, 5 on hand
    customer_id: str


@pytest.fixture
def store(session: Any) -> Store:
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Longjing",
        status="active",
        skus=[
            NewSku(code="TEA-250", title="250g", price=5000, on_hand=10),
            NewSku(code="CUP", title="Cup", price=2000, on_hand=5),
        ],
    )
    by_code = {sku.code: sku.id for sku in product.skus}
    customer = create_customer(session, shop_id=shop.id, name="王小明", phone="13800000001")
    session.commit()
    return Store(shop.id, token_for(shop), product.id, by_code["TEA-250"], by_code["CUP"], customer.id)

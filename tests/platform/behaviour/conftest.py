"""A shop with two customers and a product (with a SKU), and a second shop, for behaviour-event tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from factories import ShopFactory, token_for
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.customers.services import create_customer


@dataclass
class Scene:
    shop_id: str
    headers: dict[str, str]
    ann: str
    bob: str
    product: str
    sku: str
    other_sku: str  # a SKU of another product of the same shop
    foreign_customer: str  # a customer of another shop
    foreign_product: str


@pytest.fixture
def scene(session, clock) -> Scene:
    shop = ShopFactory()
    ann = create_customer(session, shop_id=shop.id, name="ann", email="ann@example.cn", phone=None)
    bob = create_customer(session, shop_id=shop.id, name="bob", email="bob@example.cn", phone=None)
    tea = create_product(
        session, shop_id=shop.id, title="Tea", status="active", skus=[NewSku(code="T1", title="Tea", price=100)]
    )
    cup = create_product(
        session, shop_id=shop.id, title="Cup", status="active", skus=[NewSku(code="C1", title="Cup", price=100)]
    )
    other = ShopFactory()
    stranger = create_customer(session, shop_id=other.id, name="zed", email="zed@example.cn", phone=None)
    theirs = create_product(session, shop_id=other.id, title="Theirs", status="active")
    session.commit()
    return Scene(
        shop.id, token_for(shop), ann.id, bob.id, tea.id, tea.skus[0].id, cup.skus[0].id, stranger.id, theirs.id
    )

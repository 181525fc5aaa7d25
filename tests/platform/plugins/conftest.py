"""A shop with a product and a customer, and HTTP helpers for plugins and checkouts."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest

from factories import ShopFactory, token_for
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.customers.services import create_customer


def b64(module: bytes) -> str:
    return base64.b64encode(module).decode()


@dataclass(frozen=True)
class Shop:
    id: str
    headers: dict[str, str]
    tea: str  # 5000 fen, 10 on hand
    customer_id: str


def build_shop(session: Any) -> Shop:
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Longjing",
        status="active",
        skus=[NewSku(code="TEA", title="250g", price=5000, on_hand=10)],
    )
    customer = create_customer(session, shop_id=shop.id, name="王小明", phone="13800000002")
    session.commit()
    return Shop(shop.id, token_for(shop), product.skus[0].id, customer.id)


class Api:
    def __init__(self, client: Any) -> None:
        self.client = client

    def upload(self, shop: Shop, module: bytes, point: str, **extra: Any) -> Any:
        body = {"name": f"test {point}", "point": point, "module_base64": b64(module), **extra}
        return self.client.post("/api/v1/plugins", json=body, headers=shop.headers)

    def install(self, shop: Shop, module: bytes, point: str, **activation: Any) -> tuple[str, str]:
        """Upload and activate; returns (plugin_id, activation_id)."""
        r = self.upload(shop, module, point)
        assert r.status_code == 201, r.get_json()
        plugin_id = r.get_json()["id"]
        r = self.client.post(
            "/api/v1/plugin-activations", json={"plugin_id": plugin_id, **activation}, headers=shop.headers
        )
        assert r.status_code == 201, r.get_json()
        return plugin_id, r.get_json()["id"]

    def checkout(self, shop: Shop, quantity: int = 1) -> Any:
        body = {"lines": [{"sku_id": shop.tea, "quantity": quantity}], "customer_id": shop.customer_id}
        r = self.client.post("/api/v1/carts", json=body, headers=shop.headers)
        assert r.status_code == 201, r.get_json()
        return self.client.post(f"/api/v1/carts/{r.get_json()['id']}/checkout", json={}, headers=shop.headers)

    def get(self, shop: Shop, path: str, **query: Any) -> Any:
        return self.client.get("/api/v1" + path, query_string=query, headers=shop.headers)


@pytest.fixture
def shop(session: Any) -> Shop:
    return build_shop(session)


@pytest.fixture
def other_shop(session: Any) -> Shop:
    return build_shop(session)


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)

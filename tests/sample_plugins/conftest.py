"""A shop with a product and a customer, and the HTTP helpers to run the sample plugins through checkout.

The shop/upload helpers are a minimal copy of ``tests/platform/plugins/conftest.py`` (a package named
``platform`` cannot be imported from here: it is shadowed by the standard library's ``platform``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest

from factories import ShopFactory, token_for
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.customers.services import create_customer


@dataclass(frozen=True)
class Shop:
    id: str
    headers: dict[str, str]
    tea: str  # 5000 fen, 10 on hand
    customer_id: str


@pytest.fixture
def shop(session: Any) -> Shop:
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Longjing",
        status="active",
        skus=[NewSku(code="TEA", title="250g", price=5000, on_hand=10)],
    )
    customer = create_customer(session, shop_id=shop.id, name="王小明", phone="13800000009")
    session.commit()
    return Shop(shop.id, token_for(shop), product.skus[0].id, customer.id)


class Api:
    def __init__(self, client: Any) -> None:
        self.client = client

    def install(
        self, shop: Shop, name: str, *, point: str, module: bytes, schema: dict[str, Any], config: dict[str, Any]
    ) -> str:
        """Upload ``module`` with its config schema and activate it with ``config``; returns the plugin id."""
        body = {
            "name": name,
            "point": point,
            "module_base64": base64.b64encode(module).decode(),
            "config_schema": schema,
        }
        r = self.client.post("/api/v1/plugins", json=body, headers=shop.headers)
        assert r.status_code == 201, r.get_json()
        plugin_id = str(r.get_json()["id"])
        r = self.client.post(
            "/api/v1/plugin-activations", json={"plugin_id": plugin_id, "config": config}, headers=shop.headers
        )
        assert r.status_code == 201, r.get_json()
        return plugin_id

    def checkout(self, shop: Shop, quantity: int = 1) -> Any:
        body = {"lines": [{"sku_id": shop.tea, "quantity": quantity}], "customer_id": shop.customer_id}
        r = self.client.post("/api/v1/carts", json=body, headers=shop.headers)
        assert r.status_code == 201, r.get_json()
        return self.client.post(f"/api/v1/carts/{r.get_json()['id']}/checkout", json={}, headers=shop.headers)

    def pay(self, shop: Shop, order_id: str) -> dict[str, Any]:
        r = self.client.post(f"/api/v1/orders/{order_id}/payments", json={}, headers=shop.headers)
        assert r.status_code == 201, r.get_json()
        payment = r.get_json()
        if payment["status"] == "pending":
            r = self.client.post(
                f"/api/v1/payments/{payment['id']}/callback", json={"outcome": "succeeded"}, headers=shop.headers
            )
            assert r.status_code == 200, r.get_json()
            payment = r.get_json()
        return dict(payment)

    def invocations(self, shop: Shop, plugin_id: str) -> list[dict[str, Any]]:
        r = self.client.get("/api/v1/plugin-invocations", query_string={"plugin_id": plugin_id}, headers=shop.headers)
        assert r.status_code == 200, r.get_json()
        return list(r.get_json()["items"])


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)

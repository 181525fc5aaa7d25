"""A shop to check out in for the risk tests: a SKU, a customer with points, and HTTP helpers that choose
the buyer's IP and device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.models import Sku
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.ledger.services import balance_of
from souk_platform.orders.models import Order
from souk_platform.points.services import award_points
from souk_platform.risk.models import RiskDecision
from souk_platform.shops.services import update_shop


@dataclass(frozen=True)
class Shop:
    id: str
    headers: dict[str, str]
    sku: str  # 5000 fen, 50 on hand
    customer_id: str


def build_shop(session: Any, clock: Any, *, points: int = 1000, **settings: Any) -> Shop:
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Longjing",
        status="active",
        skus=[NewSku(code="TEA", title="250g", price=5000, on_hand=50)],
    )
    customer = create_customer(session, shop_id=shop.id, name="王小明", phone="13800000001")
    session.flush()
    if points:
        award_points(
            session,
            shop_id=shop.id,
            customer_id=customer.id,
            points=points,
            reason="welcome",
            reference=None,
            dedupe_key=f"welcome:{customer.id}",
            now=clock.now(),
        )
    if settings:
        update_shop(session, shop_id=shop.id, changes={"settings": settings}, expected_version=None)
    session.commit()
    return Shop(shop.id, token_for(shop), product.skus[0].id, customer.id)


class Buyer:
    """Carts and checkouts over HTTP from a chosen IP (and device)."""

    def __init__(self, client: Any, shop: Shop) -> None:
        self.client, self.shop = client, shop

    def checkout(
        self,
        quantity: int = 1,
        *,
        customer_id: str | None = "",
        ip: str = "10.0.0.1",
        device_id: str | None = None,
        **body: Any,
    ) -> Any:
        cart: dict[str, Any] = {"lines": [{"sku_id": self.shop.sku, "quantity": quantity}]}
        buyer = self.shop.customer_id if customer_id == "" else customer_id
        if buyer:
            cart["customer_id"] = buyer
        r = self.client.post("/api/v1/carts", json=cart, headers=self.shop.headers)
        assert r.status_code == 201, r.get_json()
        if device_id:
            body["device_id"] = device_id
        return self.client.post(
            f"/api/v1/carts/{r.get_json()['id']}/checkout",
            json=body,
            headers=self.shop.headers,
            environ_base={"REMOTE_ADDR": ip},
        )

    def get(self, path: str) -> Any:
        return self.client.get("/api/v1" + path, headers=self.shop.headers)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post("/api/v1" + path, json=body or {}, headers={**self.shop.headers, **(headers or {})})

    def snapshot(self) -> dict[str, Any]:
        """What a refused checkout must leave as it was (decisions are counted apart)."""
        s = db.session
        s.expire_all()
        sku = s.get(Sku, self.shop.sku)
        assert sku is not None
        return {
            "stock": (sku.on_hand, sku.reserved),
            "orders": s.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.shop_id == self.shop.id)),
            "points": self.points(),
        }

    def points(self) -> int:
        return balance_of(
            db.session, shop_id=self.shop.id, kind="customer.points", owner_id=self.shop.customer_id, unit="PTS"
        )

    def decisions(self) -> list[RiskDecision]:
        db.session.expire_all()
        return list(
            db.session.scalars(
                sa.select(RiskDecision).where(RiskDecision.shop_id == self.shop.id).order_by(RiskDecision.id)
            )
        )


@pytest.fixture
def shop(session: Any, clock: Any) -> Shop:
    return build_shop(session, clock)


@pytest.fixture
def buyer(client: Any, shop: Shop) -> Buyer:
    return Buyer(client, shop)

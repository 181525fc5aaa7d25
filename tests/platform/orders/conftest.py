"""A shop to sell from: products, a customer with points and stored value, a coupon — built through
the domains' own services and committed, plus small HTTP helpers for the checkout flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.catalog.models import Sku
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.coupons.models import CouponRedemption
from souk_platform.coupons.services import create_coupon
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.ledger.models import LedgerEntry
from souk_platform.ledger.services import balance_of
from souk_platform.orders.models import Order, Payment, Refund
from souk_platform.points.services import award_points
from souk_platform.stored_value.services import top_up


@dataclass(frozen=True)
class World:
    """Plain ids (ORM objects expire when a request rolls the session back)."""

    shop_id: str
    headers: dict[str, str]
    tea: str  # SKU priced 5000 fen, 10 on hand
    cup: str  # SKU priced 2000 fen, 5 on hand
    customer_id: str
    product_id: str


def build_world(session: Any, clock: Any, *, points: int = 1000, stored_value: int = 10_000) -> World:
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
    tea, cup = (sku.id for sku in sorted(product.skus, key=lambda s: s.code, reverse=True))
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
    if stored_value:
        top_up(
            session,
            shop_id=shop.id,
            customer_id=customer.id,
            amount=stored_value,
            reference=None,
            dedupe_key=f"topup:{customer.id}",
        )
    session.commit()
    return World(shop.id, token_for(shop), tea, cup, customer.id, product.id)


@pytest.fixture
def world(session: Any, clock: Any) -> World:
    return build_world(session, clock)


@pytest.fixture
def coupon(session: Any, world: World) -> str:
    """Code TEA10: 1000 fen off orders of at least 5000."""
    created = create_coupon(
        session,
        shop_id=world.shop_id,
        fields={"code": "TEA10", "name": "10 off", "kind": "threshold", "value": 1000, "min_spend": 5000},
    )
    session.commit()
    return created.id


class Flow:
    """The checkout flow over HTTP for one world, and what tests compare before and after."""

    def __init__(self, client: Any, world: World) -> None:
        self.client = client
        self.world = world

    def cart(self, lines: list[tuple[str, int]], *, customer: bool = True) -> str:
        body: dict[str, Any] = {"lines": [{"sku_id": sku, "quantity": q} for sku, q in lines]}
        if customer:
            body["customer_id"] = self.world.customer_id
        r = self.client.post("/api/v1/carts", json=body, headers=self.world.headers)
        assert r.status_code == 201, r.get_json()
        return str(r.get_json()["id"])

    def checkout(self, cart_id: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
        return self.client.post(
            f"/api/v1/carts/{cart_id}/checkout", json=body, headers={**self.world.headers, **(headers or {})}
        )

    def place(self, lines: list[tuple[str, int]], **body: Any) -> dict[str, Any]:
        r = self.checkout(self.cart(lines), **body)
        assert r.status_code == 201, r.get_json()
        return dict(r.get_json())

    def start_payment(self, order_id: str) -> Any:
        return self.client.post(f"/api/v1/orders/{order_id}/payments", json={}, headers=self.world.headers)

    def callback(self, payment_id: str, outcome: str = "succeeded") -> Any:
        return self.client.post(
            f"/api/v1/payments/{payment_id}/callback", json={"outcome": outcome}, headers=self.world.headers
        )

    def pay(self, order_id: str) -> dict[str, Any]:
        r = self.start_payment(order_id)
        assert r.status_code == 201, r.get_json()
        payment = r.get_json()
        if payment["status"] == "pending":
            r = self.callback(payment["id"])
            assert r.status_code == 200, r.get_json()
            payment = r.get_json()
        return dict(payment)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post("/api/v1" + path, json=body or {}, headers={**self.world.headers, **(headers or {})})

    def get(self, path: str) -> Any:
        return self.client.get("/api/v1" + path, headers=self.world.headers)

    def balances(self) -> dict[str, int]:
        s, w = db.session, self.world
        return {
            "points": balance_of(s, shop_id=w.shop_id, kind="customer.points", owner_id=w.customer_id, unit="PTS"),
            "stored_value": balance_of(
                s, shop_id=w.shop_id, kind="customer.stored_value", owner_id=w.customer_id, unit="CNY"
            ),
            "shop_balance": balance_of(s, shop_id=w.shop_id, kind="shop.balance", owner_id=w.shop_id, unit="CNY"),
        }

    def stock(self, sku_id: str) -> tuple[int, int]:
        db.session.expire_all()
        sku = db.session.get(Sku, sku_id)
        assert sku is not None
        return sku.on_hand, sku.reserved

    def snapshot(self) -> dict[str, Any]:
        """Everything a refused checkout, payment or refund must leave untouched."""
        s, shop_id = db.session, self.world.shop_id
        s.expire_all()
        stock = {sku.id: (sku.on_hand, sku.reserved) for sku in s.scalars(sa.select(Sku).where(Sku.shop_id == shop_id))}

        def count(model: Any) -> int:
            return int(s.scalar(sa.select(sa.func.count()).select_from(model).where(model.shop_id == shop_id)))

        return {
            "stock": stock,
            "orders": count(Order),
            "payments": count(Payment),
            "refunds": count(Refund),
            "redemptions": count(CouponRedemption),
            "entries": int(s.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))),
            **self.balances(),
        }


@pytest.fixture
def flow(client: Any, world: World) -> Flow:
    return Flow(client, world)

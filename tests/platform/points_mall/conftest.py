"""A stocked points mall to redeem in: a SKU, an issued coupon, a benefit package, members with points, and
HTTP helpers (docs/architecture.md §5.14)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from app_webhooks import Receiver, drain, now_clock, receiver  # noqa: F401 (fixtures)

from factories import ShopFactory, token_for
from souk_platform.benefits.services import create_package
from souk_platform.catalog.models import Sku
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.coupons.services import create_coupon
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.ledger.services import balance_of, check_invariants
from souk_platform.orders.models import Order
from souk_platform.points.services import award_points
from souk_platform.points_mall.models import MallItem, MallRedemption
from souk_platform.shops.services import update_shop


@dataclass(frozen=True)
class Mall:
    id: str
    headers: dict[str, str]
    sku: str  # 5000 fen, 10 on hand
    coupon: str  # an issued coupon
    package: str  # a manual benefit package (points item)
    customer_id: str  # V1, 1000 points
    vip_id: str  # V3, 5000 points


def build_mall(session: Any, clock: Any, *, points: int = 1000, on_hand: int = 10, **settings: Any) -> Mall:
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Longjing",
        status="active",
        skus=[NewSku(code="TEA", title="250g", price=5000, on_hand=on_hand)],
    )
    coupon = create_coupon(
        session,
        shop_id=shop.id,
        fields={
            "code": "MALL10",
            "name": "10 off",
            "kind": "threshold",
            "value": 1000,
            "min_spend": 5000,
            "distribution": "issued",
        },
    )
    package = create_package(
        session,
        shop_id=shop.id,
        fields={"name": "兑换礼", "trigger": "manual", "items": [{"type": "points", "points": 5}]},
    )
    customer = create_customer(session, shop_id=shop.id, name="王小明", phone="13800000001")
    vip = create_customer(session, shop_id=shop.id, name="李大卫", phone="13800000002")
    vip.level = 3
    session.flush()
    for who, amount in ((customer, points), (vip, 5000)):
        if amount:
            award_points(
                session,
                shop_id=shop.id,
                customer_id=who.id,
                points=amount,
                reason="welcome",
                reference=None,
                dedupe_key=f"welcome:{who.id}",
                now=clock.now(),
            )
    if settings:
        update_shop(session, shop_id=shop.id, changes={"settings": settings}, expected_version=None)
    session.commit()
    return Mall(shop.id, token_for(shop), product.skus[0].id, coupon.id, package.id, customer.id, vip.id)


class Api:
    """The mall's API as a merchant's server calls it."""

    def __init__(self, client: Any, mall: Mall) -> None:
        self.client, self.mall = client, mall
        self._keys = 0

    def item(self, status_code: int = 201, **fields: Any) -> dict[str, Any]:
        body = {"kind": "goods", "title": "龙井 250g", "points": 100, "status": "on_sale", **fields}
        if body["kind"] == "goods" and "sku_id" not in fields:
            body["sku_id"] = self.mall.sku
        r = self.client.post("/api/v1/points-mall/items", json=body, headers=self.mall.headers)
        assert r.status_code == status_code, r.get_json()
        return dict(r.get_json())

    def redeem(self, item_id: str, customer_id: str | None = None, *, key: str | None = None, **body: Any) -> Any:
        self._keys += 1
        payload = {"item_id": item_id, "customer_id": customer_id or self.mall.customer_id, **body}
        headers = {**self.mall.headers, "Idempotency-Key": key or f"redeem-{self._keys}"}
        return self.client.post("/api/v1/points-mall/redemptions", json=payload, headers=headers)

    def get(self, path: str) -> Any:
        return self.client.get("/api/v1" + path, headers=self.mall.headers)

    def post(self, path: str, body: Any = None, key: str | None = None) -> Any:
        headers = {**self.mall.headers, **({"Idempotency-Key": key} if key else {})}
        return self.client.post("/api/v1" + path, json=body if body is not None else {}, headers=headers)

    def points(self, customer_id: str | None = None) -> int:
        db.session.expire_all()
        return balance_of(
            db.session,
            shop_id=self.mall.id,
            kind="customer.points",
            owner_id=customer_id or self.mall.customer_id,
            unit="PTS",
        )

    def stock(self) -> tuple[int, int]:
        db.session.expire_all()
        sku = db.session.get(Sku, self.mall.sku)
        assert sku is not None
        return sku.on_hand, sku.reserved

    def snapshot(self) -> dict[str, Any]:
        """What a refused redemption must leave as it was."""
        s = db.session
        s.expire_all()

        def count(model: Any) -> int:
            return int(s.scalar(sa.select(sa.func.count()).select_from(model).where(model.shop_id == self.mall.id)))

        return {
            "stock": self.stock(),
            "orders": count(Order),
            "redemptions": count(MallRedemption),
            "redeemed": sorted(s.scalars(sa.select(MallItem.redeemed).where(MallItem.shop_id == self.mall.id))),
            "points": (self.points(), self.points(self.mall.vip_id)),
        }


def ledger_exact() -> None:
    db.session.expire_all()
    assert check_invariants(db.session) == []


@pytest.fixture
def mall(session: Any, clock: Any) -> Mall:
    return build_mall(session, clock)


@pytest.fixture
def api(client: Any, mall: Mall) -> Api:
    return Api(client, mall)

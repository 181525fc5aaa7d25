"""A shop with two customers and a staff token, and HTTP helpers for points tasks (docs/architecture.md §5.15)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.customers.services import create_customer
from souk_platform.db import db
from souk_platform.ledger.services import balance_of
from souk_platform.points_tasks.models import PointsTaskCompletion
from souk_platform.risk.models import RiskDecision

_keys = itertools.count()


@dataclass
class Api:
    client: Any
    shop_id: str
    headers: dict[str, str]
    customer: str  # 王小明, phone only
    friend: str  # 李雷

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get("/api/v1" + path, query_string=query, headers=self.headers)

    def post(self, path: str, body: Any = None, *, key: str | None = "auto", **headers: str) -> Any:
        sent = dict(self.headers, **headers)
        if key == "auto":
            key = f"k-{next(_keys)}"
        if key is not None:
            sent["Idempotency-Key"] = key
        return self.client.post("/api/v1" + path, json=body if body is not None else {}, headers=sent)

    def patch(self, path: str, body: Any, version: int | None = None) -> Any:
        sent = dict(self.headers, **({"If-Match": f'"{version}"'} if version is not None else {}))
        return self.client.patch("/api/v1" + path, json=body, headers=sent)

    def task(self, **fields: Any) -> dict[str, Any]:
        r = self.post("/points-tasks", {"name": "Task", "points": 10, **fields}, key=None)
        assert r.status_code == 201, r.get_json()
        return r.get_json()  # type: ignore[no-any-return]

    def sign_in(self, customer: str | None = None, *, key: str | None = "auto", **body: Any) -> Any:
        return self.post(f"/customers/{customer or self.customer}/sign-ins", body, key=key)

    def points(self, customer: str | None = None) -> int:
        return balance_of(
            db.session,
            shop_id=self.shop_id,
            kind="customer.points",
            owner_id=customer or self.customer,
            unit="PTS",
        )

    def completions(self) -> int:
        return db.session.scalar(sa.select(sa.func.count()).where(PointsTaskCompletion.shop_id == self.shop_id))

    def decisions(self) -> list[RiskDecision]:
        db.session.expire_all()
        return list(
            db.session.scalars(
                sa.select(RiskDecision).where(RiskDecision.shop_id == self.shop_id).order_by(RiskDecision.id)
            )
        )


def build_api(client: Any, session: Any) -> Api:
    shop = ShopFactory()
    customer = create_customer(session, shop_id=shop.id, name="王小明", phone="13800000001")
    friend = create_customer(session, shop_id=shop.id, name="李雷")
    session.commit()
    return Api(client, shop.id, token_for(shop), customer.id, friend.id)


@pytest.fixture
def api(client: Any, session: Any) -> Api:
    return build_api(client, session)

"""A small shop of customers with known spend, levels, points and tags for tag and segment tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from factories import ShopFactory, token_for
from souk_platform.customers.services import create_customer, record_purchase
from souk_platform.ledger.services import Leg, get_account, post_transfer
from souk_platform.tags.services import create_tag, tag_customers


@dataclass
class Population:
    shop_id: str
    headers: dict[str, str]
    ids: dict[str, str]  # name -> customer id
    vip_tag: str


@pytest.fixture
def population(session, clock) -> Population:
    """Five customers: (name, level, spend fen, days since last order, points, vip?)."""
    now = clock.now()
    shop = ShopFactory()
    people = [
        ("ann", 1, 0, None, 0, False),
        ("bob", 2, 20_000, 5, 100, True),
        ("cat", 3, 80_000, 40, 0, True),
        ("dan", 4, 150_000, 2, 3_000, False),
        ("eve", 5, 300_000, 100, 500, True),
    ]
    issued = get_account(session, shop_id=shop.id, kind="shop.points_issued", owner_id=shop.id, unit="PTS")
    ids = {}
    for name, level, spend, days, points, _ in people:
        customer = create_customer(session, shop_id=shop.id, name=name, email=f"{name}@example.cn", phone=None)
        customer.level = level
        if spend:
            at = now - dt.timedelta(days=days)
            record_purchase(
                session, shop_id=shop.id, customer_id=customer.id, order_id=f"o-{name}", amount=spend, at=at
            )
        if points:
            mine = get_account(session, shop_id=shop.id, kind="customer.points", owner_id=customer.id, unit="PTS")
            post_transfer(session, shop_id=shop.id, kind="points.earn", legs=[Leg(issued, -points), Leg(mine, points)])
        ids[name] = customer.id
    vip = create_tag(session, shop_id=shop.id, name="VIP", now=now)
    tag_customers(session, shop_id=shop.id, tag_id=vip.id, customer_ids=[ids[n] for n, *_, v in people if v])
    session.commit()
    return Population(shop.id, token_for(shop), ids, vip.id)

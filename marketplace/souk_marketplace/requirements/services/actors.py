"""Who did something, as a requirement's timeline shows it."""

from __future__ import annotations

from dataclasses import dataclass

from souk_platform.auth.models import User
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, as the timeline shows it: shop | developer | admin | backers | system."""

    type: str
    id: str | None
    name: str


SYSTEM = Actor("system", None, "Souk")
BACKERS = Actor("backers", None, "Backers")


def shop_actor(session: DbSession, shop_id: str) -> Actor:
    shop = session.get(Shop, shop_id)
    return Actor("shop", shop_id, shop.name if shop else shop_id)


def user_actor(user: User, type: str) -> Actor:
    return Actor(type, user.id, user.name)

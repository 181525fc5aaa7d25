"""Who acts on a service order: the buyer, the provider, an admin or the system."""

from __future__ import annotations

from dataclasses import dataclass

from souk_marketplace.service_market.states import ADMIN, BUYER, PROVIDER, SYSTEM


@dataclass(frozen=True, slots=True)
class Party:
    """Who acts on an order: the buyer (a shop), the provider (a user) or a platform admin (a user)."""

    role: str
    shop_id: str | None = None
    user_id: str | None = None

    @classmethod
    def buyer(cls, shop_id: str, user_id: str | None = None) -> Party:
        return cls(BUYER, shop_id=shop_id, user_id=user_id)

    @classmethod
    def provider(cls, user_id: str) -> Party:
        return cls(PROVIDER, user_id=user_id)

    @classmethod
    def admin(cls, user_id: str) -> Party:
        return cls(ADMIN, user_id=user_id)


SYSTEM_PARTY = Party(SYSTEM)

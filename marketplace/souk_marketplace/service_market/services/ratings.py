"""The buyer's rating of the provider once the order is done."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from souk_marketplace.service_market.errors import AlreadyRated, IllegalTransition, InvalidServiceOrder
from souk_marketplace.service_market.models import ServiceOrder, ServiceRating
from souk_marketplace.service_market.services.lookups import get_order
from souk_marketplace.service_market.services.parties import Party
from souk_marketplace.service_market.services.terms import _text
from souk_marketplace.service_market.states import BUYER, record
from souk_platform.db import DbSession

RATABLE_STATES = frozenset({"clearing", "settled", "refunded"})


def rate_provider(
    session: DbSession, *, order_id: str, party: Party, stars: int, text: str | None, now: dt.datetime
) -> ServiceRating:
    """The buyer rates the provider once per order, after the work was accepted or a dispute ended."""
    order = get_order(session, order_id, party, lock=True)
    if party.role != BUYER:
        raise AlreadyRated("Only the buyer rates the provider.")
    delivered = any(m.delivered_at is not None for m in order.milestones)
    if order.state not in RATABLE_STATES or not delivered:
        raise IllegalTransition(
            f"Service order {order.id} is {order.state}; rate the provider once the work is done.",
            current_state=order.state,
        )
    if session.scalar(sa.select(ServiceRating.id).where(ServiceRating.order_id == order.id)):
        raise AlreadyRated("This order has been rated already.")
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise InvalidServiceOrder("Give 1 to 5 stars.", errors={"stars": ["1 to 5."]})
    comment = _text(text, "text", limit=2000, required=False)
    rating = ServiceRating(
        order_id=order.id,
        shop_id=order.shop_id,
        provider_id=order.provider_id,
        service_id=order.service_id,
        stars=stars,
        text=comment,
        created_at=now,
    )
    session.add(rating)
    session.flush()
    record(
        session,
        order,
        "rated",
        actor=BUYER,
        user_id=party.user_id,
        now=now,
        note=comment or None,
        details={"stars": stars},
    )
    return rating


def rating_of(session: DbSession, order: ServiceOrder) -> ServiceRating | None:
    return session.scalar(sa.select(ServiceRating).where(ServiceRating.order_id == order.id))

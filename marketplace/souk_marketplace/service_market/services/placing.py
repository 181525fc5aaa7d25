"""Placing an order (the price into escrow) and the buyer's requirements that start the work."""

from __future__ import annotations

import datetime as dt

from souk_marketplace.service_market.errors import InvalidServiceOrder
from souk_marketplace.service_market.models import Service, ServiceMilestone, ServiceOrder, ServicePackage
from souk_marketplace.service_market.services.escrow import _account
from souk_marketplace.service_market.services.lookups import get_order
from souk_marketplace.service_market.services.parties import Party
from souk_marketplace.service_market.services.terms import MAX_REQUIREMENTS, _text
from souk_marketplace.service_market.states import BUYER, SYSTEM, check_move, record, transition
from souk_platform.db import DbSession
from souk_platform.ledger.services import Leg, post_transfer
from souk_platform.shops.services import get_shop


def place_order(
    session: DbSession,
    *,
    shop_id: str,
    package_id: str,
    requirements: str | None,
    now: dt.datetime,
    fee_bps: int,
    placed_by: str | None = None,
) -> ServiceOrder:
    """Order a package: the price moves from the shop's balance into the order's escrow at once.

    422 for an unknown or withdrawn package, a package priced in another currency than the shop's,
    or a balance that cannot pay. With ``requirements`` the work starts at once.
    """
    package = session.get(ServicePackage, package_id)
    service = session.get(Service, package.service_id) if package else None
    if package is None or package.archived_at is not None or service is None or service.status != "active":
        raise InvalidServiceOrder(
            f"No package {package_id} is on offer.", errors={"package_id": ["No such package on offer."]}
        )
    shop = get_shop(session, shop_id)
    if shop.currency != package.currency:
        raise InvalidServiceOrder(
            f"The package is priced in {package.currency}; the shop pays in {shop.currency}.",
            errors={"package_id": [f"Priced in {package.currency}, not {shop.currency}."]},
        )
    if requirements is not None:
        requirements = _text(requirements, "requirements", limit=MAX_REQUIREMENTS)
    plan = package.milestones or [
        {"title": package.name, "amount": package.price, "delivery_days": package.delivery_days}
    ]
    order = ServiceOrder(
        shop_id=shop_id,
        provider_id=service.provider_id,
        provider_user_id=service.provider.user_id,
        service_id=service.id,
        package_id=package.id,
        service_title=service.title,
        package_name=package.name,
        kind=package.kind,
        amount=package.price,
        currency=package.currency,
        revisions_included=package.revisions,
        fee_bps=fee_bps,
        state="placed",
        placed_by=placed_by,
        created_at=now,
        milestones=[
            ServiceMilestone(
                shop_id=shop_id,
                position=i,
                title=step["title"],
                amount=step["amount"],
                delivery_days=step["delivery_days"],
            )
            for i, step in enumerate(plan)
        ],
    )
    session.add(order)
    session.flush()
    post_transfer(
        session,
        shop_id=shop_id,
        kind="service_order.escrow",
        legs=[
            Leg(_account(session, order, "shop.balance"), -order.amount),
            Leg(_account(session, order, "escrow.service_order"), order.amount),
        ],
        reference=order.id,
        dedupe_key=f"service_order:{order.id}:escrow",
    )
    buyer = Party.buyer(shop_id, placed_by)
    record(session, order, "state", actor=BUYER, user_id=placed_by, now=now, to_state="placed")
    transition(session, order, "requirements_pending", actor=SYSTEM, now=now)
    if requirements is not None:
        _submit_requirements(session, order, buyer, requirements, now=now)
    return order


def _start_milestone(order: ServiceOrder, milestone: ServiceMilestone, now: dt.datetime) -> None:
    milestone.state = "in_progress"
    milestone.started_at = now
    milestone.due_at = now + dt.timedelta(days=milestone.delivery_days)
    order.due_at = milestone.due_at
    order.review_until = None


def _submit_requirements(
    session: DbSession, order: ServiceOrder, party: Party, requirements: str, *, now: dt.datetime
) -> None:
    check_move(order, "in_progress", party.role)
    order.requirements = requirements
    _start_milestone(order, order.milestones[0], now)
    transition(session, order, "in_progress", actor=party.role, user_id=party.user_id, now=now, note=requirements)


def submit_requirements(
    session: DbSession,
    *,
    order_id: str,
    party: Party,
    requirements: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ServiceOrder:
    """The buyer sends what the provider needs; the work starts and the first due date runs."""
    order = get_order(session, order_id, party, lock=True, expected_version=expected_version)
    text = _text(requirements, "requirements", limit=MAX_REQUIREMENTS)
    _submit_requirements(session, order, party, text, now=now)
    return order

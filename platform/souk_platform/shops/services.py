"""Creating shops, their staff, and changing shop settings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from souk_platform.auth.models import User
from souk_platform.core.errors import NotFound, Unprocessable
from souk_platform.core.money import CURRENCIES
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.prepared import PreparedRead
from souk_platform.shops.models import ROLES, Shop, StaffMember

# Shop settings the built-in pipeline reads, with their defaults (docs/architecture.md §5.2, §7.3).
DEFAULT_SETTINGS: dict[str, Any] = {
    "discount_merge": "stack",  # or "best_of": how several discounts on one order combine
    "points_per_yuan": 1,  # points.earn default rule: points per 100 fen paid
    "points_value_fen": 1,  # checkout: each point spent is worth this many fen
    "points_max_ratio_bp": 5000,  # checkout: points may pay at most this share (basis points)
    "points_expiry_days": 365,
    "points_expiry_policy": "days",  # or "end_of_year": expire when the year after the earning year ends (§5.15)
    "points_max_per_order": 0,  # checkout: at most this many points per order (0: no cap beyond the ratio)
    "cashback_bp": 0,  # order.cashback default rule: share of paid amount, basis points
    "refund_window_days": 7,  # cashback is credited after this
    "reservation_minutes": 30,  # unpaid orders release their stock after this
    # Risk control's built-in rules (docs/architecture.md §5.13; 0 turns a rule off), each with the outcome
    # it asks for when it fires (review or deny). Within the window:
    "risk_customer_orders_max": 20,  # the customer would place more than this many orders,
    "risk_customer_orders_window_minutes": 60,
    "risk_customer_orders_outcome": "deny",
    "risk_ip_customers_max": 10,  # the IP would be used by more than this many customers,
    "risk_ip_customers_window_minutes": 60,
    "risk_ip_customers_outcome": "deny",
    "risk_customer_ips_max": 10,  # the customer would order from more than this many IPs,
    "risk_customer_ips_window_minutes": 60,
    "risk_customer_ips_outcome": "deny",
    "risk_device_customers_max": 3,  # the device would be used by more than this many customers;
    "risk_device_customers_window_minutes": 1440,
    "risk_device_customers_outcome": "review",
    # an account younger than this many hours places an order worth at least this many fen (0: off).
    "risk_new_account_hours": 24,
    "risk_new_account_order_min": 0,
    "risk_new_account_outcome": "review",
    # An order held for review that nobody decided on within this many hours is released or cancelled.
    "risk_review_expiry_hours": 24,
    "risk_review_expiry_action": "cancel",
    # Messages asked for between these shop-local times wait until the end (docs/architecture.md §5.11);
    # "HH:MM" each, both null: no quiet hours.
    "quiet_hours_start": None,
    "quiet_hours_end": None,
}


def shop_payload(shop: Shop) -> dict[str, Any]:
    return {"id": shop.id, "name": shop.name, "currency": shop.currency, "version": shop.version}


def create_shop(session: DbSession, *, name: str, owner: User, currency: str = "CNY") -> Shop:
    if currency not in CURRENCIES:
        raise Unprocessable(f"Unsupported currency {currency}.", errors={"currency": ["Unsupported."]})
    shop = Shop(name=name, currency=currency, settings=dict(DEFAULT_SETTINGS))
    session.add(shop)
    session.flush()
    session.add(StaffMember(shop_id=shop.id, user_id=owner.id, role="owner"))
    # Imported here: messaging reads shop settings from this module (docs/architecture.md §5.11).
    from souk_platform.messaging.services.channels import ensure_built_in_channels

    ensure_built_in_channels(session, shop_id=shop.id)
    emit(
        session,
        shop_id=shop.id,
        type="shop.created",
        subject_type="shop",
        subject_id=shop.id,
        payload=shop_payload(shop),
    )
    return shop


def get_shop(session: DbSession, shop_id: str) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("No such shop.")
    return shop


# What the API shows of a shop, read as a Core row (no ORM instance) for the fast read path.
SHOP_COLUMNS = (Shop.id, Shop.name, Shop.currency, Shop.timezone, Shop.settings, Shop.version, Shop.created_at)


_SHOP_ROW = PreparedRead(sa.select(*SHOP_COLUMNS).where(Shop.id == sa.bindparam("shop_id")))  # built once (§4.9)


def get_shop_row(session: DbSession, shop_id: str) -> Any:
    """``get_shop`` as a row of ``SHOP_COLUMNS``."""
    row = _SHOP_ROW.first(session, {"shop_id": shop_id})
    if row is None:
        raise NotFound("No such shop.")
    return row


def shop_setting(shop: Shop, name: str) -> Any:
    return (shop.settings or {}).get(name, DEFAULT_SETTINGS[name])


def update_shop(session: DbSession, *, shop_id: str, changes: dict[str, Any], expected_version: int | None) -> Shop:
    shop = get_shop(session, shop_id)
    check_version(shop.version, expected_version)
    if "name" in changes:
        shop.name = changes["name"]
    if "settings" in changes:
        unknown = sorted(set(changes["settings"]) - set(DEFAULT_SETTINGS))
        if unknown:
            raise Unprocessable(
                f"Unknown setting(s): {', '.join(unknown)}.",
                errors={f"settings.{k}": ["Unknown setting."] for k in unknown},
            )
        merged = {**DEFAULT_SETTINGS, **(shop.settings or {}), **changes["settings"]}
        if (merged["quiet_hours_start"] is None) != (merged["quiet_hours_end"] is None):
            raise Unprocessable(
                "Quiet hours need a start and an end (or neither).",
                errors={"settings.quiet_hours_end": ["Give both times, or clear both."]},
            )
        shop.settings = merged
    session.flush()
    emit(
        session,
        shop_id=shop.id,
        type="shop.updated",
        subject_type="shop",
        subject_id=shop.id,
        payload=shop_payload(shop),
    )
    return shop


def add_staff(session: DbSession, *, shop_id: str, user: User, role: str) -> StaffMember:
    if role not in ROLES:
        raise Unprocessable(f"Role must be one of {', '.join(ROLES)}.", errors={"role": ["Unknown role."]})
    member = StaffMember(shop_id=shop_id, user_id=user.id, role=role)
    session.add(member)
    session.flush()
    return member


def membership(session: DbSession, *, shop_id: str, user_id: str) -> StaffMember | None:
    return session.scalar(sa.select(StaffMember).where(StaffMember.shop_id == shop_id, StaffMember.user_id == user_id))


def shops_of(session: DbSession, user_id: str) -> list[tuple[Shop, str]]:
    rows = session.execute(
        sa.select(Shop, StaffMember.role)
        .join(StaffMember, StaffMember.shop_id == Shop.id)
        .where(StaffMember.user_id == user_id)
        .order_by(Shop.name)
    )
    return [(shop, role) for shop, role in rows]

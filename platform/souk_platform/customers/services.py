"""Customers: create, change, find, and the purchase facts other domains record.

``get_customer``, ``record_purchase`` and ``record_refund`` are the calls orders make; everything
else serves the customers API. Totals on ``Customer`` are a cache of its ``CustomerPurchase`` rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_platform.core.versions import check_version
from souk_platform.customers.errors import CustomerNotFound, DuplicateCustomer, InvalidCustomer, InvalidPurchase
from souk_platform.customers.models import Customer, CustomerPurchase
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.shops.models import Shop
from souk_platform.tags.models import CustomerTag, Tag

_IDENTITY_FIELDS = ("phone", "email")


def customer_payload(customer: Customer) -> dict[str, Any]:
    """The event payload for a customer (with ``version`` so receivers can drop stale updates)."""
    return {
        "id": customer.id,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "level": customer.level,
        "orders_count": customer.orders_count,
        "total_spent": customer.total_spent,
        "last_order_at": customer.last_order_at.isoformat() if customer.last_order_at else None,
        "version": customer.version,
    }


def normalize_phone(phone: str | None) -> str | None:
    """Phones are stored without spaces or dashes so lookups and duplicates compare equal."""
    if phone is None:
        return None
    return phone.replace(" ", "").replace("-", "") or None


def normalize_email(email: str | None) -> str | None:
    return email.strip().lower() or None if email is not None else None


def get_customer(session: DbSession, *, shop_id: str, customer_id: str, for_update: bool = False) -> Customer:
    """The shop's customer; ``CustomerNotFound`` (404) for an unknown id or another shop's customer."""
    stmt = sa.select(Customer).where(Customer.id == customer_id, Customer.shop_id == shop_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    customer = session.scalar(stmt)
    if customer is None:
        raise CustomerNotFound(f"No customer {customer_id} in this shop.")
    return customer


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidCustomer("The name cannot be blank.", errors={"name": ["Give the customer a name."]})
    return cleaned


def _check_unique(session: DbSession, *, shop_id: str, values: dict[str, Any], exclude_id: str | None) -> None:
    for field in _IDENTITY_FIELDS:
        value = values.get(field)
        if value is None:
            continue
        stmt = sa.select(Customer.id).where(Customer.shop_id == shop_id, getattr(Customer, field) == value)
        if exclude_id:
            stmt = stmt.where(Customer.id != exclude_id)
        with session.no_autoflush:
            existing = session.scalar(stmt)
        if existing is not None:
            raise DuplicateCustomer(
                f"Customer {existing} already has the {field} {value}.",
                errors={field: [f"Another customer in this shop already has this {field}."]},
                field=field,
                existing_customer_id=existing,
            )


def _flush_identity(session: DbSession, *, shop_id: str, values: dict[str, Any], exclude_id: str | None) -> None:
    """Flush in a savepoint so a concurrent duplicate still ends as the same 409 naming the field."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        _check_unique(session, shop_id=shop_id, values=values, exclude_id=exclude_id)
        raise


def create_customer(
    session: DbSession, *, shop_id: str, name: str, phone: str | None = None, email: str | None = None
) -> Customer:
    """Add a customer; a phone or email another customer of the shop has is a 409 naming the field."""
    values = {"phone": normalize_phone(phone), "email": normalize_email(email)}
    _check_unique(session, shop_id=shop_id, values=values, exclude_id=None)
    customer = Customer(shop_id=shop_id, name=_clean_name(name), level=1, orders_count=0, total_spent=0, **values)
    session.add(customer)
    _flush_identity(session, shop_id=shop_id, values=values, exclude_id=None)
    emit(
        session,
        shop_id=shop_id,
        type="customer.created",
        subject_type="customer",
        subject_id=customer.id,
        payload=customer_payload(customer),
    )
    return customer


def update_customer(
    session: DbSession, *, shop_id: str, customer_id: str, changes: dict[str, Any], expected_version: int | None
) -> Customer:
    """Change name, phone or email (``None`` clears phone/email); 412 on a stale ``expected_version``."""
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id)
    check_version(customer.version, expected_version)
    values = dict(changes)
    if "name" in values:
        values["name"] = _clean_name(values["name"])
    if "phone" in values:
        values["phone"] = normalize_phone(values["phone"])
    if "email" in values:
        values["email"] = normalize_email(values["email"])
    _check_unique(session, shop_id=shop_id, values=values, exclude_id=customer.id)
    for field in ("name", "phone", "email"):
        if field in values:
            setattr(customer, field, values[field])
    if not session.is_modified(customer):
        return customer
    _flush_identity(session, shop_id=shop_id, values=values, exclude_id=customer.id)
    emit(
        session,
        shop_id=shop_id,
        type="customer.updated",
        subject_type="customer",
        subject_id=customer.id,
        payload=customer_payload(customer),
    )
    return customer


def list_customers_stmt(
    shop_id: str, *, q: str | None = None, level: int | None = None, tag: str | None = None
) -> sa.Select[Any]:
    """The shop's customers, optionally filtered by text (name/phone/email), level and tag id."""
    stmt = sa.select(Customer).where(Customer.shop_id == shop_id)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                Customer.name.ilike(pattern, escape="\\"),
                Customer.phone.ilike(pattern, escape="\\"),
                Customer.email.ilike(pattern, escape="\\"),
            )
        )
    if level is not None:
        stmt = stmt.where(Customer.level == level)
    if tag:
        stmt = stmt.where(
            sa.exists().where(
                CustomerTag.customer_id == Customer.id, CustomerTag.tag_id == tag, CustomerTag.shop_id == shop_id
            )
        )
    return stmt


def customer_facts(session: DbSession, *, shop_id: str, customer_id: str) -> dict[str, Any]:
    """What plugins see of a customer: id, member level and tag names (no contact details)."""
    (view,) = customer_views(
        session, shop_id=shop_id, customers=[get_customer(session, shop_id=shop_id, customer_id=customer_id)]
    )
    return {"id": view["id"], "level": view["level"], "tags": [tag["name"] for tag in view["tags"]]}


def customer_views(session: DbSession, *, shop_id: str, customers: list[Customer]) -> list[dict[str, Any]]:
    """Customers as the API shows them: their fields plus their tags and the shop's currency."""
    tags: dict[str, list[dict[str, str]]] = defaultdict(list)
    if customers:
        rows = session.execute(
            sa.select(CustomerTag.customer_id, Tag.id, Tag.name, Tag.kind)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.shop_id == shop_id, CustomerTag.customer_id.in_([c.id for c in customers]))
            .order_by(Tag.name)
        )
        for customer_id, tag_id, name, kind in rows:
            tags[customer_id].append({"id": tag_id, "name": name, "kind": kind})
    currency = session.scalar(sa.select(Shop.currency).where(Shop.id == shop_id))
    return [
        {
            "id": c.id,
            "name": c.name,
            "phone": c.phone,
            "email": c.email,
            "level": c.level,
            "orders_count": c.orders_count,
            "total_spent": c.total_spent,
            "currency": currency,
            "last_order_at": c.last_order_at,
            "tags": tags[c.id],
            "version": c.version,
            "created_at": c.created_at,
        }
        for c in customers
    ]


def _record(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    order_id: str,
    amount: int,
    at: dt.datetime,
    dedupe_key: str,
    is_refund: bool,
) -> None:
    # A purchase may be 0 fen (paid entirely with points); a refund always returns something.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0 or (is_refund and amount == 0):
        raise InvalidPurchase(f"The amount must be a positive integer in fen, not {amount!r}.")
    if at.tzinfo is None:
        raise InvalidPurchase("The time of the purchase must be timezone-aware.")
    # The row lock serialises concurrent records for one customer, so the duplicate check is exact.
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id, for_update=True)
    seen = session.scalar(
        sa.select(CustomerPurchase.id).where(
            CustomerPurchase.shop_id == shop_id, CustomerPurchase.dedupe_key == dedupe_key
        )
    )
    if seen is not None:
        return
    session.add(
        CustomerPurchase(
            shop_id=shop_id,
            customer_id=customer.id,
            order_id=order_id,
            amount=-amount if is_refund else amount,
            counts_as_order=not is_refund,
            at=at,
            dedupe_key=dedupe_key,
        )
    )
    if is_refund:
        customer.total_spent -= amount
    else:
        customer.orders_count += 1
        customer.total_spent += amount
        if customer.last_order_at is None or at > customer.last_order_at:
            customer.last_order_at = at
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="customer.updated",
        subject_type="customer",
        subject_id=customer.id,
        payload=customer_payload(customer),
    )


def record_purchase(
    session: DbSession, *, shop_id: str, customer_id: str, order_id: str, amount: int, at: dt.datetime
) -> None:
    """Record a paid order (``amount`` fen ≥ 0: 0 when paid entirely with points) and update the totals.

    Idempotent per order: a retried call for the same ``order_id`` changes nothing.
    """
    _record(
        session,
        shop_id=shop_id,
        customer_id=customer_id,
        order_id=order_id,
        amount=amount,
        at=at,
        dedupe_key=f"{order_id}:purchase",
        is_refund=False,
    )


def record_refund(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    order_id: str,
    amount: int,
    at: dt.datetime,
    refund_id: str | None = None,
) -> None:
    """Record a refund of ``amount`` fen (> 0, stored negative) against an order; lowers ``total_spent``.

    Idempotent per (order, refund): pass ``refund_id`` to tell apart several refunds of one order;
    without it a refund is identified by its amount, so a retry with the same amount counts once.
    The order count is unchanged: a refunded order was still an order.
    """
    _record(
        session,
        shop_id=shop_id,
        customer_id=customer_id,
        order_id=order_id,
        amount=amount,
        at=at,
        dedupe_key=f"{order_id}:refund:{refund_id or amount}",
        is_refund=True,
    )


def search_customers_stmt(
    shop_id: str,
    *,
    q: str | None = None,
    level: int | None = None,
    tag: str | None = None,
    min_spent: int | None = None,
    max_spent: int | None = None,
) -> sa.Select[Any]:
    """``list_customers_stmt`` plus a range of ``total_spent`` (fen, both ends included), for the back office."""
    stmt = list_customers_stmt(shop_id, q=q, level=level, tag=tag)
    if min_spent is not None:
        stmt = stmt.where(Customer.total_spent >= min_spent)
    if max_spent is not None:
        stmt = stmt.where(Customer.total_spent <= max_spent)
    return stmt

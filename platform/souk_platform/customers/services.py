"""Customers: create, change, find, and the purchase facts other domains record.

``get_customer``, ``record_purchase`` and ``record_refund`` are the calls orders make; everything
else serves the customers API. Totals on ``Customer`` are a cache of its ``CustomerPurchase`` rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_platform.core.versions import check_version, require_version
from souk_platform.customers.errors import (
    CustomerNotFound,
    DuplicateCustomer,
    DuplicateIdentity,
    IdentityNotFound,
    InvalidCustomer,
    InvalidPurchase,
)
from souk_platform.customers.models import (
    GENDERS,
    PROVIDER,
    PROVIDER_HELP,
    SOURCE_CHANNELS,
    Customer,
    CustomerIdentity,
    CustomerPurchase,
)
from souk_platform.db import DbSession, utcnow
from souk_platform.events.services import emit
from souk_platform.shops.models import Shop
from souk_platform.tags.models import CustomerTag, Tag

_IDENTITY_FIELDS = ("phone", "email")
# What PATCH may change; the order is the order ``changed`` lists them in events.
_PROFILE_FIELDS = ("name", "phone", "email", "birthday", "gender", "source_channel")
EARLIEST_BIRTHDAY = dt.date(1900, 1, 1)
MAX_IDENTITIES = 20


def customer_payload(customer: Customer, *, changed: list[str] | None = None) -> dict[str, Any]:
    """The event payload for a customer (with ``version`` so receivers can drop stale updates).

    Personal data (phone, email, birthday) travels only to receivers allowed to read customers
    (``read_customers``, docs/architecture.md §5.6). ``changed`` names the fields an update changed.
    """
    payload: dict[str, Any] = {
        "id": customer.id,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "birthday": customer.birthday.isoformat() if customer.birthday else None,
        "gender": customer.gender,
        "source_channel": customer.source_channel,
        "level": customer.level,
        "orders_count": customer.orders_count,
        "total_spent": customer.total_spent,
        "last_order_at": customer.last_order_at.isoformat() if customer.last_order_at else None,
        "version": customer.version,
    }
    if changed is not None:
        payload["changed"] = changed
    return payload


def identity_payload(identity: CustomerIdentity) -> dict[str, Any]:
    return {
        "id": identity.id,
        "customer_id": identity.customer_id,
        "provider": identity.provider,
        "external_id": identity.external_id,
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


def _shop_today(session: DbSession, shop_id: str, now: dt.datetime) -> dt.date:
    timezone = session.scalar(sa.select(Shop.timezone).where(Shop.id == shop_id)) or "Asia/Shanghai"
    return now.astimezone(ZoneInfo(timezone)).date()


def _check_profile(session: DbSession, *, shop_id: str, values: dict[str, Any], now: dt.datetime | None) -> None:
    """Birthday in the past (the shop's today at the latest, 1900 at the earliest), a known gender and channel."""
    errors: dict[str, list[str]] = {}
    birthday = values.get("birthday")
    if birthday is not None:
        if not isinstance(birthday, dt.date) or isinstance(birthday, dt.datetime):
            errors["birthday"] = ["Give the birthday as a date, YYYY-MM-DD."]
        elif birthday > _shop_today(session, shop_id, now or utcnow()):
            errors["birthday"] = ["The birthday cannot be in the future."]
        elif birthday < EARLIEST_BIRTHDAY:
            errors["birthday"] = [f"The birthday cannot be before {EARLIEST_BIRTHDAY.isoformat()}."]
    if "gender" in values and values["gender"] not in GENDERS:
        errors["gender"] = [f"Use one of {', '.join(GENDERS)}."]
    channel = values.get("source_channel")
    if channel is not None and channel not in SOURCE_CHANNELS:
        errors["source_channel"] = [f"Use one of {', '.join(SOURCE_CHANNELS)}."]
    if errors:
        raise InvalidCustomer("The customer's profile is not valid.", errors=errors)


def create_customer(
    session: DbSession,
    *,
    shop_id: str,
    name: str,
    phone: str | None = None,
    email: str | None = None,
    birthday: dt.date | None = None,
    gender: str = "unknown",
    source_channel: str | None = None,
    now: dt.datetime | None = None,
) -> Customer:
    """Add a customer; a phone or email another customer of the shop has is a 409 naming the field."""
    profile = {"birthday": birthday, "gender": gender, "source_channel": source_channel}
    _check_profile(session, shop_id=shop_id, values=profile, now=now)
    values = {"phone": normalize_phone(phone), "email": normalize_email(email)}
    _check_unique(session, shop_id=shop_id, values=values, exclude_id=None)
    customer = Customer(
        shop_id=shop_id, name=_clean_name(name), level=1, orders_count=0, total_spent=0, **values, **profile
    )
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
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str,
    changes: dict[str, Any],
    expected_version: int | None,
    version_required: bool = False,
    now: dt.datetime | None = None,
) -> Customer:
    """Change the profile (name, phone, email, birthday, gender, source channel; ``None`` clears all but
    the name and gender); 412 on a stale ``expected_version``, 428 on none when ``version_required``.

    ``customer.updated`` names the fields that changed in ``changed``; nothing changed, no event.
    """
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id)
    (require_version if version_required else check_version)(customer.version, expected_version)
    unknown = sorted(set(changes) - set(_PROFILE_FIELDS))
    if unknown:
        raise InvalidCustomer("Unknown fields.", errors={field: ["Unknown field."] for field in unknown})
    values = dict(changes)
    _check_profile(session, shop_id=shop_id, values=values, now=now)
    if "name" in values:
        values["name"] = _clean_name(values["name"])
    if "phone" in values:
        values["phone"] = normalize_phone(values["phone"])
    if "email" in values:
        values["email"] = normalize_email(values["email"])
    if "gender" in values and values["gender"] is None:
        raise InvalidCustomer("The gender cannot be cleared.", errors={"gender": ["Use unknown instead."]})
    _check_unique(session, shop_id=shop_id, values=values, exclude_id=customer.id)
    changed = [field for field in _PROFILE_FIELDS if field in values and getattr(customer, field) != values[field]]
    if not changed:
        return customer
    for field in changed:
        setattr(customer, field, values[field])
    _flush_identity(session, shop_id=shop_id, values=values, exclude_id=customer.id)
    emit(
        session,
        shop_id=shop_id,
        type="customer.updated",
        subject_type="customer",
        subject_id=customer.id,
        payload=customer_payload(customer, changed=changed),
    )
    return customer


def list_customers_stmt(
    shop_id: str,
    *,
    q: str | None = None,
    level: int | None = None,
    tag: str | None = None,
    identity_provider: str | None = None,
    identity_external_id: str | None = None,
) -> sa.Select[Any]:
    """The shop's customers, optionally filtered by text (name/phone/email), level, tag id and external
    identity (a provider, an external id, or both: how an app finds the customer behind a login)."""
    stmt = sa.select(Customer).where(Customer.shop_id == shop_id)
    if identity_provider or identity_external_id:
        match = sa.exists().where(CustomerIdentity.customer_id == Customer.id, CustomerIdentity.shop_id == shop_id)
        if identity_provider:
            match = match.where(CustomerIdentity.provider == identity_provider)
        if identity_external_id:
            match = match.where(CustomerIdentity.external_id == identity_external_id.strip())
        stmt = stmt.where(match)
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
    identities = identities_of(session, shop_id=shop_id, customer_ids=[c.id for c in customers])
    currency = session.scalar(sa.select(Shop.currency).where(Shop.id == shop_id))
    return [
        {
            "id": c.id,
            "name": c.name,
            "phone": c.phone,
            "email": c.email,
            "birthday": c.birthday,
            "gender": c.gender,
            "source_channel": c.source_channel,
            "identities": identities.get(c.id, []),
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
    changed = ["total_spent"] if is_refund else ["orders_count", "total_spent"]
    if is_refund:
        customer.total_spent -= amount
    else:
        customer.orders_count += 1
        customer.total_spent += amount
        if customer.last_order_at is None or at > customer.last_order_at:
            customer.last_order_at = at
            changed.append("last_order_at")
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="customer.updated",
        subject_type="customer",
        subject_id=customer.id,
        payload=customer_payload(customer, changed=changed),
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


# ---- external identities (docs/architecture.md §5.6) ----


def identities_of(session: DbSession, *, shop_id: str, customer_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each customer's identities as the API shows them, oldest first."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not customer_ids:
        return out
    rows = session.scalars(
        sa.select(CustomerIdentity)
        .where(CustomerIdentity.shop_id == shop_id, CustomerIdentity.customer_id.in_(customer_ids))
        .order_by(CustomerIdentity.id)
    )
    for identity in rows:
        out[identity.customer_id].append(identity_view(identity))
    return out


def identity_view(identity: CustomerIdentity) -> dict[str, Any]:
    return {
        "id": identity.id,
        "customer_id": identity.customer_id,
        "provider": identity.provider,
        "external_id": identity.external_id,
        "created_at": identity.created_at,
    }


def list_identities_stmt(session: DbSession, *, shop_id: str, customer_id: str) -> sa.Select[Any]:
    """The customer's identities (404 for another shop's customer), for the pagination helper."""
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id)
    return sa.select(CustomerIdentity).where(
        CustomerIdentity.shop_id == shop_id, CustomerIdentity.customer_id == customer.id
    )


def find_by_identity(session: DbSession, *, shop_id: str, provider: str, external_id: str) -> Customer | None:
    """The shop's customer another system knows as (``provider``, ``external_id``), if any."""
    return session.scalar(
        sa.select(Customer)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
        .where(
            CustomerIdentity.shop_id == shop_id,
            CustomerIdentity.provider == provider,
            CustomerIdentity.external_id == external_id.strip(),
        )
    )


def _identity_owner(session: DbSession, *, shop_id: str, provider: str, external_id: str) -> CustomerIdentity | None:
    with session.no_autoflush:
        return session.scalar(
            sa.select(CustomerIdentity).where(
                CustomerIdentity.shop_id == shop_id,
                CustomerIdentity.provider == provider,
                CustomerIdentity.external_id == external_id,
            )
        )


def add_identity(
    session: DbSession, *, shop_id: str, customer_id: str, provider: str, external_id: str
) -> tuple[CustomerIdentity, bool]:
    """Link an external identity to a customer; returns it and whether it is new.

    Adding the same identity to the same customer again changes nothing; one another customer of the
    shop holds is a 409 naming that customer (a concurrent duplicate too: the unique key decides).
    Emits ``customer.identity_added``.
    """
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id, for_update=True)
    external_id = external_id.strip()
    errors: dict[str, list[str]] = {}
    if not PROVIDER.match(provider):
        errors["provider"] = [f"Use {PROVIDER_HELP}."]
    if not external_id or len(external_id) > 128 or not external_id.isprintable():
        errors["external_id"] = ["Give the id the other system uses, 1–128 printable characters."]
    if errors:
        raise InvalidCustomer("The identity is not valid.", errors=errors)
    existing = _identity_owner(session, shop_id=shop_id, provider=provider, external_id=external_id)
    if existing is not None and existing.customer_id == customer.id:
        return existing, False
    if existing is not None:
        raise _duplicate_identity(existing)
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(CustomerIdentity)
        .where(CustomerIdentity.shop_id == shop_id, CustomerIdentity.customer_id == customer.id)
    )
    if (count or 0) >= MAX_IDENTITIES:
        raise InvalidCustomer(
            f"A customer has at most {MAX_IDENTITIES} identities.",
            errors={"external_id": [f"Remove one of the customer's {MAX_IDENTITIES} identities first."]},
        )
    identity = CustomerIdentity(shop_id=shop_id, customer_id=customer.id, provider=provider, external_id=external_id)
    try:
        # The savepoint starts before the row is added: begin_nested() flushes what is pending first.
        with session.begin_nested():
            session.add(identity)
            session.flush()
    except IntegrityError:
        winner = _identity_owner(session, shop_id=shop_id, provider=provider, external_id=external_id)
        if winner is None:
            raise
        if winner.customer_id == customer.id:
            return winner, False
        raise _duplicate_identity(winner) from None
    emit(
        session,
        shop_id=shop_id,
        type="customer.identity_added",
        subject_type="customer",
        subject_id=customer.id,
        payload=identity_payload(identity),
    )
    return identity, True


def _duplicate_identity(existing: CustomerIdentity) -> DuplicateIdentity:
    return DuplicateIdentity(
        f"Customer {existing.customer_id} already has this {existing.provider} identity.",
        errors={"external_id": ["Another customer in this shop already has this identity."]},
        existing_customer_id=existing.customer_id,
    )


def remove_identity(session: DbSession, *, shop_id: str, customer_id: str, identity_id: str) -> None:
    """Unlink an identity from its customer (404 for an unknown one); emits ``customer.identity_removed``."""
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id)
    identity = session.scalar(
        sa.select(CustomerIdentity).where(
            CustomerIdentity.id == identity_id,
            CustomerIdentity.shop_id == shop_id,
            CustomerIdentity.customer_id == customer.id,
        )
    )
    if identity is None:
        raise IdentityNotFound(f"Customer {customer.id} has no identity {identity_id}.")
    payload = identity_payload(identity)
    session.delete(identity)
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="customer.identity_removed",
        subject_type="customer",
        subject_id=customer.id,
        payload=payload,
    )


def search_customers_stmt(
    shop_id: str,
    *,
    q: str | None = None,
    level: int | None = None,
    tag: str | None = None,
    min_spent: int | None = None,
    max_spent: int | None = None,
    gender: str | None = None,
    source_channel: str | None = None,
) -> sa.Select[Any]:
    """``list_customers_stmt`` plus a range of ``total_spent`` (fen, both ends included), a gender and a source
    channel, for the back office."""
    stmt = list_customers_stmt(shop_id, q=q, level=level, tag=tag)
    if gender is not None:
        stmt = stmt.where(Customer.gender == gender)
    if source_channel is not None:
        stmt = stmt.where(Customer.source_channel == source_channel)
    if min_spent is not None:
        stmt = stmt.where(Customer.total_spent >= min_spent)
    if max_spent is not None:
        stmt = stmt.where(Customer.total_spent <= max_spent)
    return stmt

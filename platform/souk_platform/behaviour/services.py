"""Recording customers' behaviour events in batches, listing them, and purging them past the window.

Events are idempotent per the sender's ``event_id``: a batch is validated whole (nothing is written
when any item is bad), then inserted with one ``INSERT … ON CONFLICT (shop_id, event_id) DO NOTHING``
so concurrent batches with overlapping ids store each event once (docs/architecture.md §5.4).
No outbox event is emitted per behaviour event: a 500-event batch would flood webhooks.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.behaviour.errors import InvalidEvents
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.catalog.models import Product, Sku
from souk_platform.core.ids import new_id
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession, dialect_insert
from souk_platform.journeys.engine.intake import take_behaviour_events

EVENT_TYPES = (
    "product_viewed",
    "cart_added",
    "searched",
    "page_viewed",
    "store_visited",
    "service_contacted",
    "review_posted",
    "coupon_viewed",
    "share_clicked",
)
# type -> {property: required?}; a key not listed for the type is refused. Values are checked in schemas.py.
EVENT_PROPERTIES: dict[str, dict[str, bool]] = {
    "product_viewed": {"product_id": True, "sku_id": False},
    "cart_added": {"product_id": True, "sku_id": False, "quantity": False},
    "searched": {"query": True},
    "page_viewed": {"url": True},
    "store_visited": {},
    "service_contacted": {},
    "review_posted": {"product_id": True, "rating": True},
    "coupon_viewed": {},
    "share_clicked": {},
}
# Context (scene) fields a type needs besides its properties.
EVENT_CONTEXT: dict[str, tuple[str, ...]] = {"store_visited": ("store",)}
MAX_BATCH = 500
FUTURE_SKEW = dt.timedelta(minutes=5)  # a sender's clock may run this far ahead
PURGE_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class RecordedBatch:
    accepted: int
    duplicates: list[str]  # event ids already stored or repeated in the batch, in request order


def _check_references(
    session: DbSession, *, shop_id: str, events: list[dict[str, Any]], now: dt.datetime, retention: dt.timedelta
) -> dict[str, list[str]]:
    """Errors keyed by path (``events.3.customer_id``) for what only the database and clock can tell."""
    customer_ids = {e["customer_id"] for e in events}
    product_ids = {e["properties"]["product_id"] for e in events if "product_id" in e["properties"]}
    sku_ids = {e["properties"]["sku_id"] for e in events if "sku_id" in e["properties"]}
    customers = set(
        session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop_id, Customer.id.in_(customer_ids)))
    )
    products = (
        set(session.scalars(sa.select(Product.id).where(Product.shop_id == shop_id, Product.id.in_(product_ids))))
        if product_ids
        else set()
    )
    sku_rows: Iterable[Any] = (
        session.execute(sa.select(Sku.id, Sku.product_id).where(Sku.shop_id == shop_id, Sku.id.in_(sku_ids)))
        if sku_ids
        else []
    )
    sku_products: dict[str, str] = {sku_id: product_id for sku_id, product_id in sku_rows}
    earliest, latest = now - retention, now + FUTURE_SKEW
    errors: dict[str, list[str]] = {}
    for index, event in enumerate(events):
        path = f"events.{index}"
        if event["customer_id"] not in customers:
            errors[f"{path}.customer_id"] = [f"No customer {event['customer_id']} in this shop."]
        if event["occurred_at"] > latest:
            errors[f"{path}.occurred_at"] = ["Must not be more than 5 minutes in the future."]
        elif event["occurred_at"] < earliest:
            errors[f"{path}.occurred_at"] = [f"Must be within the last {retention.days} days (the retention window)."]
        properties = event["properties"]
        if "product_id" in properties and properties["product_id"] not in products:
            errors[f"{path}.properties.product_id"] = [f"No product {properties['product_id']} in this shop."]
        if "sku_id" in properties:
            owner = sku_products.get(properties["sku_id"])
            if owner is None:
                errors[f"{path}.properties.sku_id"] = [f"No SKU {properties['sku_id']} in this shop."]
            elif owner != properties.get("product_id"):
                errors[f"{path}.properties.sku_id"] = [f"The SKU {properties['sku_id']} is not of this product."]
    return errors


def record_events(
    session: DbSession, *, shop_id: str, events: list[dict[str, Any]], now: dt.datetime, retention: dt.timedelta
) -> RecordedBatch:
    """Store a validated batch (shapes checked by ``CustomerEventBatchSchema``); idempotent per ``event_id``.

    A bad reference (another shop's customer or product) or an ``occurred_at`` outside
    ``[now - retention, now + 5 min]`` is a 422 naming each path, and nothing is written.
    """
    errors = _check_references(session, shop_id=shop_id, events=events, now=now, retention=retention)
    if errors:
        raise InvalidEvents(
            "Some events cannot be recorded: " + ", ".join(sorted(errors)) + ". Nothing was recorded.",
            errors=errors,
        )
    first: dict[str, dict[str, Any]] = {}
    for event in events:
        first.setdefault(event["event_id"], event)
    rows = [
        {
            "id": new_id("cev"),
            "shop_id": shop_id,
            "event_id": event["event_id"],
            "customer_id": event["customer_id"],
            "type": event["type"],
            "occurred_at": event["occurred_at"],
            "received_at": now,
            "channel": event.get("channel"),
            "campaign": event.get("campaign"),
            "store": event.get("store"),
            "properties": event["properties"],
        }
        # Sorted by event id: two batches overlapping in opposite orders would otherwise each wait
        # on the other's uncommitted unique-index entry (a deadlock); one order makes one wait.
        for event in sorted(first.values(), key=lambda e: e["event_id"])
    ]
    insert = (
        dialect_insert(session)(CustomerEvent)
        .on_conflict_do_nothing(index_elements=[CustomerEvent.shop_id, CustomerEvent.event_id])
        .returning(CustomerEvent.event_id)
    )
    stored = set(session.scalars(insert, rows))
    # Journeys listening to these types take them in this transaction (nothing is done when none listens).
    take_behaviour_events(session, shop_id=shop_id, events=[row for row in rows if row["event_id"] in stored])
    sent = Counter(e["event_id"] for e in events)
    # Already stored by an earlier batch, or repeated in this one (its first copy may be stored now).
    duplicates = [event_id for event_id in sent if event_id not in stored or sent[event_id] > 1]
    return RecordedBatch(accepted=len(stored), duplicates=duplicates)


def list_events_stmt(
    shop_id: str, *, customer_id: str | None = None, type: str | None = None, since: dt.datetime | None = None
) -> sa.Select[Any]:
    """The shop's events, filtered; the caller pages them newest ``occurred_at`` first."""
    stmt = sa.select(CustomerEvent).where(CustomerEvent.shop_id == shop_id)
    if customer_id is not None:
        stmt = stmt.where(CustomerEvent.customer_id == customer_id)
    if type is not None:
        stmt = stmt.where(CustomerEvent.type == type)
    if since is not None:
        stmt = stmt.where(CustomerEvent.occurred_at >= since)
    return stmt


def purge_shop_events(
    session: DbSession, *, shop_id: str, now: dt.datetime, retention: dt.timedelta, limit: int = PURGE_BATCH
) -> int:
    """Delete at most ``limit`` of a shop's events that occurred before ``now - retention``; return how many.

    Filtered by every type so the (shop_id, type, occurred_at) index finds the rows; the caller commits
    between batches and stops when fewer than ``limit`` went.
    """
    doomed = (
        sa.select(CustomerEvent.id)
        .where(
            CustomerEvent.shop_id == shop_id,
            CustomerEvent.type.in_(EVENT_TYPES),
            CustomerEvent.occurred_at < now - retention,
        )
        .limit(limit)
        .scalar_subquery()
    )
    result = session.execute(sa.delete(CustomerEvent).where(CustomerEvent.id.in_(doomed)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

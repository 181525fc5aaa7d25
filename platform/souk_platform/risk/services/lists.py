"""Block and allow lists of customers, IPs and device ids (docs/architecture.md §5.13)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from souk_platform.core.versions import check_version
from souk_platform.customers.models import Customer
from souk_platform.db import DbSession
from souk_platform.risk.errors import InvalidListEntry, ListEntryExists, ListEntryNotFound
from souk_platform.risk.models import LIST_KINDS, LISTS, RiskListEntry

__all__ = ["create_entry", "delete_entry", "entries_stmt", "entry_view", "get_entry", "update_entry"]


def entry_view(entry: RiskListEntry, now: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "id": entry.id,
        "list": entry.list,
        "kind": entry.kind,
        "value": entry.value,
        "note": entry.note,
        "expires_at": entry.expires_at,
        "active": entry.expires_at is None or now is None or entry.expires_at > now,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "version": entry.version,
    }


def entries_stmt(
    shop_id: str, *, list_name: str | None = None, kind: str | None = None, value: str | None = None
) -> sa.Select[Any]:
    stmt = sa.select(RiskListEntry).where(RiskListEntry.shop_id == shop_id)
    if list_name:
        stmt = stmt.where(RiskListEntry.list == list_name)
    if kind:
        stmt = stmt.where(RiskListEntry.kind == kind)
    if value:
        stmt = stmt.where(RiskListEntry.value == value)
    return stmt


def get_entry(session: DbSession, *, shop_id: str, entry_id: str, for_update: bool = False) -> RiskListEntry:
    stmt = sa.select(RiskListEntry).where(RiskListEntry.shop_id == shop_id, RiskListEntry.id == entry_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    entry = session.scalar(stmt)
    if entry is None:
        raise ListEntryNotFound(f"No risk list entry {entry_id} in this shop.")
    return entry


def _normalised_value(session: DbSession, shop_id: str, kind: str, value: str) -> str:
    value = value.strip()
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise InvalidListEntry(
                f"{value!r} is not an IP address.", errors={"value": ["Not an IP address."]}
            ) from None
    if kind == "customer":
        known = session.scalar(sa.select(Customer.id).where(Customer.shop_id == shop_id, Customer.id == value))
        if known is None:
            raise InvalidListEntry(f"No customer {value} in this shop.", errors={"value": ["No such customer."]})
    if not value:
        raise InvalidListEntry("The value is empty.", errors={"value": ["Required."]})
    return value


def _check_expiry(expires_at: dt.datetime | None, now: dt.datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise InvalidListEntry("The expiry is in the past.", errors={"expires_at": ["Must be in the future."]})


def create_entry(session: DbSession, *, shop_id: str, fields: dict[str, Any], now: dt.datetime) -> RiskListEntry:
    """Put a customer, IP or device id on the block or allow list (409 when it is there already)."""
    if fields["list"] not in LISTS or fields["kind"] not in LIST_KINDS:
        raise InvalidListEntry(
            "Unknown list or kind.", errors={"list": [" | ".join(LISTS)], "kind": [" | ".join(LIST_KINDS)]}
        )
    _check_expiry(fields.get("expires_at"), now)
    entry = RiskListEntry(
        shop_id=shop_id,
        list=fields["list"],
        kind=fields["kind"],
        value=_normalised_value(session, shop_id, fields["kind"], fields["value"]),
        note=fields.get("note"),
        expires_at=fields.get("expires_at"),
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        raise ListEntryExists(
            f"{fields['kind']} {entry.value} is already on the {fields['list']} list.",
            errors={"value": ["Already listed."]},
        ) from None
    return entry


def update_entry(
    session: DbSession,
    *,
    shop_id: str,
    entry_id: str,
    changes: dict[str, Any],
    now: dt.datetime,
    expected_version: int | None,
) -> RiskListEntry:
    """Change an entry's note or expiry (send the version read as If-Match)."""
    entry = get_entry(session, shop_id=shop_id, entry_id=entry_id, for_update=True)
    check_version(entry.version, expected_version)
    if "expires_at" in changes:
        _check_expiry(changes["expires_at"], now)
        entry.expires_at = changes["expires_at"]
    if "note" in changes:
        entry.note = changes["note"]
    entry.updated_at = now
    session.flush()
    return entry


def delete_entry(session: DbSession, *, shop_id: str, entry_id: str, expected_version: int | None) -> None:
    entry = get_entry(session, shop_id=shop_id, entry_id=entry_id, for_update=True)
    check_version(entry.version, expected_version)
    session.delete(entry)
    session.flush()

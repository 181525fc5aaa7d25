"""Benefit packages (权益包) and grants: every rule of docs/architecture.md §5.10.

A package lists items (points, stored value, a member discount rate, a member price, free shipping, an
installed app's item) and a trigger: joining (入会礼), reaching a level (成长礼), a birthday (生日礼),
no purchase for N days (流失唤醒礼), or by hand. A grant gives one package to one customer for one
*period* ("join", "level:3", "birthday:2026", "dormant:<last order time>", "manual:<period>"); the
unique key (shop, package, customer, period) makes it once per period, whoever races. Points and stored
value move only through their ledger services, each with a dedupe key per grant and item.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from souk_platform.apps.models import Installation
from souk_platform.benefits.errors import (
    GrantNotActive,
    GrantNotFound,
    InvalidGrant,
    InvalidPackage,
    PackageDisabled,
    PackageInUse,
    PackageNotFound,
)
from souk_platform.benefits.models import (
    ENTITLEMENT_TYPES,
    ITEM_TYPES,
    TRIGGERS,
    BenefitGrant,
    BenefitPackage,
)
from souk_platform.catalog.models import Sku
from souk_platform.core.clock import utc
from souk_platform.core.ids import new_id
from souk_platform.core.versions import check_version
from souk_platform.customers.models import Customer
from souk_platform.customers.services import get_customer
from souk_platform.db import DbSession, dialect_insert
from souk_platform.events.services import emit
from souk_platform.members.models import MemberLevelChange, MemberLevelConfig, MemberPrice
from souk_platform.members.perks import level_perks
from souk_platform.points.services import award_points
from souk_platform.shops.models import Shop
from souk_platform.stored_value.services import grant_stored_value

MAX_ITEMS = 20
MAX_GRANT_CUSTOMERS = 500
MAX_VALID_DAYS = 3650
DEFAULT_VALID_DAYS = 30
MAX_POINTS = 1_000_000
MAX_STORED_VALUE = 10_000_000  # fen
_ITEM_FIELDS: dict[str, set[str]] = {
    "points": {"points"},
    "stored_value": {"amount"},
    "coupon": {"coupon_id", "quantity"},
    "member_discount": {"percent_off", "valid_days"},
    "member_price": {"sku_id", "price", "valid_days"},
    "free_shipping": {"valid_days"},
    "app_item": {"installation_id", "item_id", "name", "valid_days"},
}
_TRIGGER_PARAMS: dict[str, set[str]] = {
    "join": set(),
    "level": {"level"},
    "birthday": {"when"},
    "dormant": {"days"},
    "manual": set(),
}


# ---- packages ----


def package_view(package: BenefitPackage) -> dict[str, Any]:
    return {
        "id": package.id,
        "name": package.name,
        "description": package.description,
        "trigger": package.trigger,
        "trigger_params": package.trigger_params,
        "items": package.items,
        "status": package.status,
        "version": package.version,
        "created_at": package.created_at,
        "updated_at": package.updated_at,
    }


def _package_payload(package: BenefitPackage) -> dict[str, Any]:
    view = package_view(package)
    view["created_at"] = package.created_at.isoformat()
    view["updated_at"] = package.updated_at.isoformat() if package.updated_at else None
    return view


def get_package(session: DbSession, *, shop_id: str, package_id: str, for_update: bool = False) -> BenefitPackage:
    stmt = sa.select(BenefitPackage).where(BenefitPackage.id == package_id, BenefitPackage.shop_id == shop_id)
    if for_update:
        stmt = stmt.with_for_update()
    package = session.scalar(stmt)
    if package is None:
        raise PackageNotFound(f"No benefit package {package_id} in this shop.")
    return package


def packages_stmt(shop_id: str, *, trigger: str | None = None, status: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(BenefitPackage).where(BenefitPackage.shop_id == shop_id)
    if trigger:
        stmt = stmt.where(BenefitPackage.trigger == trigger)
    if status:
        stmt = stmt.where(BenefitPackage.status == status)
    return stmt


def _whole_in(value: Any, low: int, high: int) -> bool:
    """A whole number (not a bool) from ``low`` to ``high``."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_trigger(trigger: str, params: dict[str, Any]) -> dict[str, Any]:
    """The trigger's parameters, defaults filled in; 422 naming ``trigger_params.<key>`` otherwise."""
    if trigger not in TRIGGERS:
        raise InvalidPackage("Unknown trigger.", errors={"trigger": [f"Use one of {', '.join(TRIGGERS)}."]})
    errors: dict[str, list[str]] = {}
    for key in sorted(set(params) - _TRIGGER_PARAMS[trigger]):
        errors[f"trigger_params.{key}"] = [f"A {trigger} trigger takes no {key}."]
    cleaned: dict[str, Any] = {}
    if trigger == "level":
        level = params.get("level")
        if not _whole_in(level, 2, 5):
            errors["trigger_params.level"] = ["The level reached, 2 to 5."]
        cleaned["level"] = level
    elif trigger == "birthday":
        when = params.get("when", "day")
        if when not in ("day", "month"):
            errors["trigger_params.when"] = ["On the birthday (day) or in its month (month)."]
        cleaned["when"] = when
    elif trigger == "dormant":
        days = params.get("days")
        if not _whole_in(days, 7, 3650):
            errors["trigger_params.days"] = ["Days without a purchase, 7 to 3650."]
        cleaned["days"] = days
    if errors:
        raise InvalidPackage("The trigger's parameters are not valid.", errors=errors)
    return cleaned


def _check_items(session: DbSession, shop_id: str, items: Sequence[Any]) -> list[dict[str, Any]]:
    """Each item as stored, ``valid_days`` filled in for rights; 422 naming ``items.<i>.<field>``."""
    if not isinstance(items, list | tuple) or not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidPackage("A package holds 1 to 20 items.", errors={"items": [f"Give 1 to {MAX_ITEMS} items."]})
    errors: dict[str, list[str]] = {}
    cleaned: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        at = f"items.{index}"
        item = dict(raw) if isinstance(raw, dict) else {}
        kind = item.pop("type", None)
        if kind not in ITEM_TYPES or kind == "coupon":
            usable = [t for t in ITEM_TYPES if t != "coupon"]
            errors[f"{at}.type"] = [f"Use one of {', '.join(usable)}."]
            continue
        for key in sorted(set(item) - _ITEM_FIELDS[kind]):
            errors[f"{at}.{key}"] = [f"A {kind} item takes no {key}."]
        out: dict[str, Any] = {"type": kind}
        if kind in ENTITLEMENT_TYPES:
            days = item.get("valid_days", DEFAULT_VALID_DAYS)
            if not _whole_in(days, 1, MAX_VALID_DAYS):
                errors[f"{at}.valid_days"] = [f"Days the right lasts, 1 to {MAX_VALID_DAYS}."]
            out["valid_days"] = days
        if kind == "points":
            if not _whole_in(item.get("points"), 1, MAX_POINTS):
                errors[f"{at}.points"] = [f"Points to give, 1 to {MAX_POINTS}."]
            out["points"] = item.get("points")
        elif kind == "stored_value":
            if not _whole_in(item.get("amount"), 1, MAX_STORED_VALUE):
                errors[f"{at}.amount"] = [f"Stored value to give in fen, 1 to {MAX_STORED_VALUE}."]
            out["amount"] = item.get("amount")
        elif kind == "member_discount":
            if not _whole_in(item.get("percent_off"), 1, 90):
                errors[f"{at}.percent_off"] = ["Percent off every order, 1 to 90 (95折 is 5)."]
            out["percent_off"] = item.get("percent_off")
        elif kind == "member_price":
            sku_id = item.get("sku_id")
            exists = isinstance(sku_id, str) and session.scalar(
                sa.select(Sku.id).where(Sku.id == sku_id, Sku.shop_id == shop_id)
            )
            if not exists:
                errors[f"{at}.sku_id"] = ["A SKU of this shop."]
            if not _whole_in(item.get("price"), 0, 100_000_000):
                errors[f"{at}.price"] = ["The member price in fen, 0 to 100000000."]
            out.update(sku_id=sku_id, price=item.get("price"))
        elif kind == "app_item":
            installation_id = item.get("installation_id")
            installed = isinstance(installation_id, str) and session.scalar(
                sa.select(Installation.id).where(
                    Installation.id == installation_id,
                    Installation.shop_id == shop_id,
                    Installation.status == "active",
                )
            )
            if not installed:
                errors[f"{at}.installation_id"] = ["An app installed on this shop."]
            for key, limit in (("item_id", 64), ("name", 100)):
                value = item.get(key)
                if not isinstance(value, str) or not value.strip() or len(value) > limit or not value.isprintable():
                    errors[f"{at}.{key}"] = [f"1 to {limit} printable characters."]
            out.update(installation_id=installation_id, item_id=item.get("item_id"), name=item.get("name"))
        cleaned.append(out)
    if errors:
        raise InvalidPackage("The package's items are not valid.", errors=errors)
    return cleaned


def _clean_name(name: Any) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or not cleaned.isprintable():
        raise InvalidPackage("The name cannot be blank.", errors={"name": ["Give the package a name."]})
    return cleaned


def create_package(session: DbSession, *, shop_id: str, fields: dict[str, Any]) -> BenefitPackage:
    """Add a package; emits ``benefit_package.created``."""
    package = BenefitPackage(
        shop_id=shop_id,
        name=_clean_name(fields["name"]),
        description=(fields.get("description") or "").strip() or None,
        trigger=fields["trigger"],
        trigger_params=_check_trigger(fields["trigger"], fields.get("trigger_params") or {}),
        items=_check_items(session, shop_id, fields["items"]),
        status=fields.get("status") or "active",
    )
    session.add(package)
    session.flush()
    _emit_package(session, package, "benefit_package.created")
    return package


def update_package(
    session: DbSession, *, shop_id: str, package_id: str, changes: dict[str, Any], expected_version: int | None
) -> BenefitPackage:
    """Change a package (grants already made keep the items they were given); 412 on a stale version."""
    package = get_package(session, shop_id=shop_id, package_id=package_id)
    check_version(package.version, expected_version)
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _clean_name(changes["name"])
    if "description" in changes:
        values["description"] = (changes["description"] or "").strip() or None
    if "trigger" in changes or "trigger_params" in changes:
        trigger = changes.get("trigger", package.trigger)
        params = changes.get("trigger_params", package.trigger_params if trigger == package.trigger else {})
        values["trigger"], values["trigger_params"] = trigger, _check_trigger(trigger, params or {})
    if "items" in changes:
        values["items"] = _check_items(session, shop_id, changes["items"])
    if "status" in changes:
        values["status"] = changes["status"]
    changed = [key for key, value in values.items() if getattr(package, key) != value]
    if not changed:
        return package
    for key in changed:
        setattr(package, key, values[key])
    session.flush()
    _emit_package(session, package, "benefit_package.updated")
    return package


def delete_package(session: DbSession, *, shop_id: str, package_id: str, expected_version: int | None) -> None:
    """Delete a package never granted (409 otherwise: disable it, so its grants keep their history)."""
    package = get_package(session, shop_id=shop_id, package_id=package_id, for_update=True)
    check_version(package.version, expected_version)
    granted = session.scalar(sa.select(BenefitGrant.id).where(BenefitGrant.package_id == package.id).limit(1))
    if granted is not None:
        raise PackageInUse(f"Package {package.id} has been granted; disable it instead.")
    payload = _package_payload(package)
    session.delete(package)
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="benefit_package.deleted",
        subject_type="benefit_package",
        subject_id=package_id,
        payload=payload,
    )


def _emit_package(session: DbSession, package: BenefitPackage, type: str) -> None:
    emit(
        session,
        shop_id=package.shop_id,
        type=type,
        subject_type="benefit_package",
        subject_id=package.id,
        payload=_package_payload(package),
    )


# ---- grants ----


def grant_view(grant: BenefitGrant, package_name: str | None = None) -> dict[str, Any]:
    return {
        "id": grant.id,
        "package_id": grant.package_id,
        "package_name": package_name,
        "customer_id": grant.customer_id,
        "trigger": grant.trigger,
        "period": grant.period,
        "status": grant.status,
        "items": grant.items,
        "granted_at": grant.granted_at,
        "expires_at": grant.expires_at,
        "used_at": grant.used_at,
        "note": grant.note,
        "version": grant.version,
    }


def _grant_payload(grant: BenefitGrant, package_name: str) -> dict[str, Any]:
    view = grant_view(grant, package_name)
    for key in ("granted_at", "expires_at", "used_at"):
        view[key] = view[key].isoformat() if view[key] else None
    return view


def grant_views(session: DbSession, grants: Sequence[BenefitGrant]) -> list[dict[str, Any]]:
    names = dict(
        session.execute(
            sa.select(BenefitPackage.id, BenefitPackage.name).where(
                BenefitPackage.id.in_({g.package_id for g in grants})
            )
        ).all()
    )
    return [grant_view(g, names.get(g.package_id)) for g in grants]


def grant_package(
    session: DbSession,
    *,
    package: BenefitPackage,
    customer_id: str,
    period: str,
    now: dt.datetime,
    note: str | None = None,
) -> tuple[BenefitGrant, bool]:
    """Give ``package`` to a customer for ``period``; returns the grant and whether it is new.

    Once per (package, customer, period): ``INSERT … ON CONFLICT DO NOTHING`` on the unique key, so a
    concurrent grant waits for the first and then finds it. A new grant moves its points and stored
    value through the ledger (dedupe key per grant and item), dates each right's expiry, and emits
    ``benefit.granted`` (an app's item reaches its app through that webhook).
    """
    grant_id = new_id("bgr")
    inserted = session.execute(
        dialect_insert(session)(BenefitGrant)
        .values(
            id=grant_id,
            shop_id=package.shop_id,
            package_id=package.id,
            customer_id=customer_id,
            period=period,
            trigger=package.trigger,
            status="active",
            items=[],
            granted_at=now,
            note=note,
            version=1,
        )
        .on_conflict_do_nothing(index_elements=["shop_id", "package_id", "customer_id", "period"])
        .returning(BenefitGrant.id)
    ).scalar()
    if inserted is None:
        existing = session.scalar(
            sa.select(BenefitGrant).where(
                BenefitGrant.shop_id == package.shop_id,
                BenefitGrant.package_id == package.id,
                BenefitGrant.customer_id == customer_id,
                BenefitGrant.period == period,
            )
        )
        assert existing is not None  # the conflicting row is committed (or ours)
        return existing, False
    grant = session.get_one(BenefitGrant, grant_id)
    delivered: list[dict[str, Any]] = []
    expiries: list[dt.datetime] = []
    for index, item in enumerate(package.items):
        out = dict(item)
        key = f"benefit:{grant.id}:{index}"
        reason = f"权益 {package.name}"
        if item["type"] == "points":
            award_points(
                session,
                shop_id=package.shop_id,
                customer_id=customer_id,
                points=item["points"],
                reason=reason,
                reference=grant.id,
                dedupe_key=key,
                now=now,
                kind="points.benefit",
            )
        elif item["type"] == "stored_value":
            transfer = grant_stored_value(
                session,
                shop_id=package.shop_id,
                customer_id=customer_id,
                amount=item["amount"],
                reference=grant.id,
                dedupe_key=key,
            )
            out["transfer_id"] = transfer.id
        if item["type"] in ENTITLEMENT_TYPES:
            expires = now + dt.timedelta(days=item["valid_days"])
            out["expires_at"] = expires.isoformat()
            expiries.append(expires)
        delivered.append(out)
    grant.items = delivered
    grant.expires_at = max(expiries) if expiries else None
    session.flush()
    emit(
        session,
        shop_id=package.shop_id,
        type="benefit.granted",
        subject_type="customer",
        subject_id=customer_id,
        payload=_grant_payload(grant, package.name),
    )
    return grant, True


def grant_by_hand(
    session: DbSession,
    *,
    shop_id: str,
    package_id: str,
    customer_ids: Sequence[str],
    period: str | None,
    note: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Grant a package to up to 500 customers at once (all or nothing: an unknown id is a 422).

    ``period`` names the occasion ("2026-spring"): a customer already given the package for it is
    listed in ``already_granted`` and given nothing more. Without one, every call is its own occasion
    (send an ``Idempotency-Key`` to retry safely).
    """
    package = get_package(session, shop_id=shop_id, package_id=package_id)
    if package.status != "active":
        raise PackageDisabled(f"Package {package.id} is disabled; enable it to grant it.")
    wanted = list(dict.fromkeys(customer_ids))
    if not 1 <= len(wanted) <= MAX_GRANT_CUSTOMERS:
        raise InvalidGrant(
            "Grant to 1 to 500 customers.", errors={"customer_ids": [f"Give 1 to {MAX_GRANT_CUSTOMERS} ids."]}
        )
    known = set(session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop_id, Customer.id.in_(wanted))))
    unknown = [cid for cid in wanted if cid not in known]
    if unknown:
        raise InvalidGrant(
            f"No customers {', '.join(unknown[:10])} in this shop.",
            errors={"customer_ids": [f"Unknown customer {cid}." for cid in unknown[:10]]},
        )
    key = f"manual:{period}" if period else f"manual:{new_id('bgo')}"
    granted: list[BenefitGrant] = []
    already: list[str] = []
    for customer_id in wanted:
        grant, created = grant_package(
            session, package=package, customer_id=customer_id, period=key, now=now, note=note
        )
        if created:
            granted.append(grant)
        else:
            already.append(customer_id)
    return {
        "period": key,
        "granted": [grant_view(g, package.name) for g in granted],
        "already_granted": already,
    }


def get_grant(session: DbSession, *, shop_id: str, grant_id: str, for_update: bool = False) -> BenefitGrant:
    stmt = sa.select(BenefitGrant).where(BenefitGrant.id == grant_id, BenefitGrant.shop_id == shop_id)
    if for_update:
        stmt = stmt.with_for_update()
    grant = session.scalar(stmt)
    if grant is None:
        raise GrantNotFound(f"No benefit grant {grant_id} in this shop.")
    return grant


def grants_stmt(
    shop_id: str, *, customer_id: str | None = None, package_id: str | None = None, status: str | None = None
) -> sa.Select[Any]:
    """权益使用记录: the shop's grants, filtered by customer, package and status."""
    stmt = sa.select(BenefitGrant).where(BenefitGrant.shop_id == shop_id)
    if customer_id:
        stmt = stmt.where(BenefitGrant.customer_id == customer_id)
    if package_id:
        stmt = stmt.where(BenefitGrant.package_id == package_id)
    if status:
        stmt = stmt.where(BenefitGrant.status == status)
    return stmt


def use_grant(
    session: DbSession, *, shop_id: str, grant_id: str, now: dt.datetime, expected_version: int | None
) -> BenefitGrant:
    """Mark an active grant used (a cashier or an app redeemed it); 409 once used or expired."""
    grant = get_grant(session, shop_id=shop_id, grant_id=grant_id, for_update=True)
    check_version(grant.version, expected_version)
    if grant.status != "active" or (grant.expires_at is not None and grant.expires_at <= now):
        raise GrantNotActive(f"Grant {grant.id} is {grant.status if grant.status != 'active' else 'past its expiry'}.")
    grant.status, grant.used_at = "used", now
    session.flush()
    _emit_grant(session, grant, "benefit.used")
    return grant


def _emit_grant(session: DbSession, grant: BenefitGrant, type: str) -> None:
    name = session.scalar(sa.select(BenefitPackage.name).where(BenefitPackage.id == grant.package_id)) or ""
    emit(
        session,
        shop_id=grant.shop_id,
        type=type,
        subject_type="customer",
        subject_id=grant.customer_id,
        payload=_grant_payload(grant, name),
    )


def expire_due_grants(session: DbSession, *, now: dt.datetime, batch: int = 200) -> int:
    """Mark active grants past their expiry expired (``benefit.expired``); returns how many.

    Safe to run twice or in parallel: rows are locked with SKIP LOCKED and re-read under the lock.
    """
    due = list(
        session.scalars(
            sa.select(BenefitGrant)
            .where(BenefitGrant.status == "active", BenefitGrant.expires_at <= now)
            .order_by(BenefitGrant.expires_at, BenefitGrant.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    for grant in due:
        grant.status = "expired"
    session.flush()
    for grant in due:
        _emit_grant(session, grant, "benefit.expired")
    return len(due)


# ---- triggers (the jobs in tasks.py call these; every one is safe to run twice) ----


def _active_packages(session: DbSession, triggers: Iterable[str]) -> list[BenefitPackage]:
    return list(
        session.scalars(
            sa.select(BenefitPackage)
            .where(BenefitPackage.status == "active", BenefitPackage.trigger.in_(list(triggers)))
            .order_by(BenefitPackage.id)
        )
    )


def _not_granted(package: BenefitPackage, period: Any) -> Any:
    return ~sa.exists().where(
        BenefitGrant.shop_id == package.shop_id,
        BenefitGrant.package_id == package.id,
        BenefitGrant.customer_id == Customer.id,
        BenefitGrant.period == period,
    )


def _grant_each(session: DbSession, package: BenefitPackage, rows: Iterable[tuple[str, str]], now: dt.datetime) -> int:
    made = 0
    for customer_id, period in rows:
        made += grant_package(session, package=package, customer_id=customer_id, period=period, now=now)[1]
    return made


def _join_candidates(session: DbSession, package: BenefitPackage, batch: int) -> list[tuple[str, str]]:
    """Customers who joined since the package was made and have no 入会礼 from it."""
    ids = session.scalars(
        sa.select(Customer.id)
        .where(Customer.shop_id == package.shop_id, Customer.created_at >= package.created_at)
        .where(_not_granted(package, "join"))
        .order_by(Customer.id)
        .limit(batch)
    )
    return [(cid, "join") for cid in ids]


def _level_candidates(session: DbSession, package: BenefitPackage, batch: int) -> list[tuple[str, str]]:
    """Customers who rose to the package's level (or past it) since it was made: 成长礼 once per level."""
    level = package.trigger_params["level"]
    period = f"level:{level}"
    ids = session.scalars(
        sa.select(Customer.id)
        .where(
            Customer.shop_id == package.shop_id,
            sa.exists().where(
                MemberLevelChange.customer_id == Customer.id,
                MemberLevelChange.shop_id == package.shop_id,
                MemberLevelChange.from_level < level,
                MemberLevelChange.to_level >= level,
                MemberLevelChange.created_at >= package.created_at,
            ),
        )
        .where(_not_granted(package, period))
        .order_by(Customer.id)
        .limit(batch)
    )
    return [(cid, period) for cid in ids]


def shop_today(session: DbSession, shop_id: str, now: dt.datetime) -> dt.date:
    timezone = session.scalar(sa.select(Shop.timezone).where(Shop.id == shop_id)) or "Asia/Shanghai"
    return now.astimezone(ZoneInfo(timezone)).date()


def _birthday_candidates(
    session: DbSession, package: BenefitPackage, batch: int, now: dt.datetime
) -> list[tuple[str, str]]:
    """生日礼: on the birthday or in its month, in the shop's timezone; once a year (period ``birthday:<year>``).

    A 29 February birthday is celebrated on the 28th in a common year.
    """
    today = shop_today(session, package.shop_id, now)
    period = f"birthday:{today.year}"
    month = sa.extract("month", Customer.birthday)
    day = sa.extract("day", Customer.birthday)
    if package.trigger_params.get("when") == "month":
        when = month == today.month
    else:
        when = sa.and_(month == today.month, day == today.day)
        if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
            when = sa.and_(month == 2, day.in_([28, 29]))
    ids = session.scalars(
        sa.select(Customer.id)
        .where(Customer.shop_id == package.shop_id, Customer.birthday.is_not(None), when)
        .where(_not_granted(package, period))
        .order_by(Customer.id)
        .limit(batch)
    )
    return [(cid, period) for cid in ids]


def _dormant_candidates(
    session: DbSession, package: BenefitPackage, batch: int, now: dt.datetime
) -> list[tuple[str, str]]:
    """流失唤醒礼: customers whose last order is N days old, once per spell (period ``dormant:<last order time>``).

    A grant made after the last order closes the spell; buying again opens the next one.
    """
    cutoff = now - dt.timedelta(days=package.trigger_params["days"])
    rows = session.execute(
        sa.select(Customer.id, Customer.last_order_at)
        .where(
            Customer.shop_id == package.shop_id,
            Customer.last_order_at.is_not(None),
            Customer.last_order_at <= cutoff,
            ~sa.exists().where(
                BenefitGrant.shop_id == package.shop_id,
                BenefitGrant.package_id == package.id,
                BenefitGrant.customer_id == Customer.id,
                BenefitGrant.granted_at >= Customer.last_order_at,
            ),
        )
        .order_by(Customer.id)
        .limit(batch)
    )
    return [(cid, f"dormant:{utc(last).isoformat(timespec='seconds')}") for cid, last in rows if last is not None]


def run_triggers(session: DbSession, *, triggers: Sequence[str], now: dt.datetime, batch: int = 200) -> int:
    """Grant every active package of ``triggers`` to the customers due it; returns the grants made.

    Each package gives at most ``batch`` grants per call (the job calls again while there are more);
    what was already granted for its period is never granted twice.
    """
    made = 0
    for package in _active_packages(session, triggers):
        if package.trigger == "join":
            rows = _join_candidates(session, package, batch)
        elif package.trigger == "level":
            rows = _level_candidates(session, package, batch)
        elif package.trigger == "birthday":
            rows = _birthday_candidates(session, package, batch, now)
        elif package.trigger == "dormant":
            rows = _dormant_candidates(session, package, batch, now)
        else:
            continue
        made += _grant_each(session, package, rows, now)
    return made


# ---- 会员享权判断 ----


def _level_perk_entitlements(session: DbSession, *, shop_id: str, level: int) -> list[dict[str, Any]]:
    """The perks the member's level carries (§5.7): its discount, points multiplier and member prices."""
    levels = session.scalar(sa.select(MemberLevelConfig.levels).where(MemberLevelConfig.shop_id == shop_id))
    perks = level_perks(levels or [], level)
    because = {"kind": "level", "level": level, "level_name": perks.name, "trigger": "level_perk"}
    out: list[dict[str, Any]] = []
    if perks.discount_bps:
        out.append(
            {"type": "level_discount", "discount_bps": perks.discount_bps, "expires_at": None, "because": because}
        )
    if perks.points_multiplier_percent != 100:
        out.append(
            {
                "type": "points_multiplier",
                "points_multiplier_percent": perks.points_multiplier_percent,
                "expires_at": None,
                "because": because,
            }
        )
    prices = session.execute(
        sa.select(MemberPrice.sku_id, MemberPrice.price)
        .where(MemberPrice.shop_id == shop_id, MemberPrice.level == level)
        .order_by(MemberPrice.sku_id)
        .limit(100)
    )
    out += [
        {"type": "member_price", "sku_id": sku_id, "price": price, "expires_at": None, "because": because}
        for sku_id, price in prices
    ]
    return out


def customer_benefits(session: DbSession, *, shop_id: str, customer_id: str, now: dt.datetime) -> dict[str, Any]:
    """What the customer is entitled to now, and why: rights from active grants (until each one's
    expiry), from level packages whose level the customer holds (while they hold it), and the perks of
    that level itself (its discount, points multiplier and member prices, §5.7)."""
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id)
    entitlements: list[dict[str, Any]] = []
    grants = list(
        session.scalars(
            sa.select(BenefitGrant)
            .where(
                BenefitGrant.shop_id == shop_id,
                BenefitGrant.customer_id == customer.id,
                BenefitGrant.status == "active",
                sa.or_(BenefitGrant.expires_at.is_(None), BenefitGrant.expires_at > now),
            )
            .order_by(BenefitGrant.id)
        )
    )
    names = dict(
        session.execute(
            sa.select(BenefitPackage.id, BenefitPackage.name).where(
                BenefitPackage.id.in_({g.package_id for g in grants})
            )
        ).all()
    )
    for grant in grants:
        for item in grant.items:
            if item["type"] not in ENTITLEMENT_TYPES or dt.datetime.fromisoformat(item["expires_at"]) <= now:
                continue
            entitlements.append(
                {
                    **item,
                    "because": {
                        "kind": "grant",
                        "grant_id": grant.id,
                        "package_id": grant.package_id,
                        "package_name": names.get(grant.package_id),
                        "trigger": grant.trigger,
                        "period": grant.period,
                    },
                }
            )
    level_packages = session.scalars(
        sa.select(BenefitPackage)
        .where(BenefitPackage.shop_id == shop_id, BenefitPackage.status == "active", BenefitPackage.trigger == "level")
        .order_by(BenefitPackage.id)
    )
    for package in level_packages:
        level = package.trigger_params.get("level", 99)
        if level > customer.level:
            continue
        for item in package.items:
            if item["type"] in ENTITLEMENT_TYPES:
                entitlements.append(
                    {
                        **{k: v for k, v in item.items() if k != "valid_days"},
                        "expires_at": None,
                        "because": {
                            "kind": "level",
                            "level": level,
                            "package_id": package.id,
                            "package_name": package.name,
                            "trigger": "level",
                        },
                    }
                )
    entitlements += _level_perk_entitlements(session, shop_id=shop_id, level=customer.level)
    best = max((e["percent_off"] for e in entitlements if e["type"] == "member_discount"), default=None)
    return {
        "customer_id": customer.id,
        "level": customer.level,
        "entitlements": entitlements,
        "best_discount_percent_off": best,
        "free_shipping": any(e["type"] == "free_shipping" for e in entitlements),
        "active_grants": len(grants),
    }

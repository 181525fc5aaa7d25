"""The one scope registry: the consent page, the OpenAPI security section and every route read it.

Scopes are ``read_<domain>`` / ``write_<domain>``; a ``write_`` scope implies its ``read_`` twin. The platform
registers its own domains here; an extension (the marketplace) adds its domains with ``register_domain``
before it imports its routes, because ``requires(scope)`` checks the registry when a route is declared
(docs/architecture.md §3).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

_DOMAINS: dict[str, tuple[str, str]] = {
    # domain: (what read lets an app do, what write lets it do), in plain words for the consent page
    "shop": (_l("See your shop's settings and staff"), _l("Change your shop's settings")),
    "products": (_l("See products, SKUs and stock"), _l("Create and change products, SKUs and stock")),
    "customers": (_l("See customers"), _l("Create and change customers")),
    "members": (_l("See member levels and level history"), _l("Change member levels and their rules")),
    "tags": (_l("See tags and segments"), _l("Create tags and segments, tag customers, import tags")),
    "customer_events": (_l("See customers' behaviour events"), _l("Record customers' behaviour events")),
    "coupons": (_l("See coupons and promotions"), _l("Create coupons and issue them to customers")),
    "benefits": (_l("See benefit packages and grants"), _l("Create benefit packages and grant them to customers")),
    "journeys": (
        _l("See marketing journeys and where customers are in them"),
        _l("Create, change, activate and pause marketing journeys"),
    ),
    "messages": (
        _l("See message channels, templates and sent messages"),
        _l("Send messages to customers and change channels and templates"),
    ),
    "points_mall": (
        _l("See the points mall's items and redemptions"),
        _l("Change the points mall's items and redeem them for customers"),
    ),
    "orders": (_l("See carts, orders and refunds"), _l("Create checkouts and orders, pay, ship and refund")),
    "points": (_l("See points balances and rules"), _l("Award, deduct and configure points")),
    "stored_value": (_l("See stored-value balances"), _l("Top up, spend and refund stored value")),
    "reports": (_l("See sales reports"), _l("See sales reports")),
    "events": (_l("See the event log"), _l("See the event log")),
    "ledger": (_l("See ledger accounts and transfers"), _l("See ledger accounts and transfers")),
    "webhooks": (_l("See webhook subscriptions"), _l("Create and change webhook subscriptions")),
    "plugins": (_l("See plugin settings and runs"), _l("Change plugin settings")),
    "risk": (
        _l("See risk decisions, lists and reviews"),
        _l("Change risk rules and lists, approve or reject held orders"),
    ),
}


def register_domain(domain: str, read: str, write: str) -> None:
    """Add ``read_<domain>``/``write_<domain>`` with what each lets an app do; idempotent for the same words."""
    if _DOMAINS.get(domain, (read, write)) != (read, write):
        raise ValueError(f"scope domain {domain!r} is already registered with other descriptions")
    _DOMAINS[domain] = (read, write)


def all_scopes() -> tuple[str, ...]:
    """Every registered scope, in registration order (platform first, then extensions)."""
    return tuple(f"{verb}_{domain}" for domain in _DOMAINS for verb in ("read", "write"))


def is_known(scope: str) -> bool:
    verb, _, domain = scope.partition("_")
    return verb in ("read", "write") and domain in _DOMAINS


class UnknownScope(ValueError):
    pass


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    """Return the scopes sorted and deduplicated; raise ``UnknownScope`` naming any unknown one."""
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if not is_known(s)]
    if unknown:
        raise UnknownScope(", ".join(unknown))
    return wanted


def grants(held: Iterable[str], needed: str) -> bool:
    """True when ``held`` includes ``needed``, or its ``write_`` twin for a ``read_`` scope."""
    held_set = set(held)
    if needed in held_set:
        return True
    return needed.startswith("read_") and "write_" + needed.removeprefix("read_") in held_set


def describe(scope: str) -> str:
    verb, _, domain = scope.partition("_")
    read, write = _DOMAINS[domain]
    return str(read if verb == "read" else write)

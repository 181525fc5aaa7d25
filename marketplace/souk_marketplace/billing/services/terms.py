"""Billing's terms and small rules: the settings, periods and proration, fee shares, return URLs."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from souk_marketplace.billing import errors
from souk_marketplace.billing.models import AppCharge
from souk_platform.core.money import CURRENCIES
from souk_platform.shops.models import Shop

HELD, AVAILABLE = "developer.earnings_held", "developer.earnings"
RENEWAL_RETRY = dt.timedelta(days=1)  # a frozen subscription's renewal is tried again after this
PAYOUT_EVERY = dt.timedelta(days=7)  # the payout job pays each developer at most this often
MAX_AMOUNT = 10**12


# -- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillingTerms:
    """The platform's billing settings, read once from ``SOUK_*`` variables when the marketplace registers."""

    fee_bps: int = 2000  # the platform fee in basis points (2000 = 20 %)
    hold_days: int = 7  # earnings stay held this long after a charge is paid
    payout_minimum: int = 10_000  # minor units: payouts start at this much available


def terms_from_config(config: Mapping[str, Any]) -> BillingTerms:
    return BillingTerms(
        fee_bps=int(config.get("SOUK_MARKETPLACE_FEE_BPS", 2000)),
        hold_days=int(config.get("SOUK_PAYOUT_HOLD_DAYS", 7)),
        payout_minimum=int(config.get("SOUK_PAYOUT_MINIMUM", 10_000)),
    )


# -- small rules ----------------------------------------------------------------------------------


def add_interval(anchor: dt.datetime, interval: str, count: int) -> dt.datetime:
    """``anchor`` plus ``count`` months (or years), the day clamped to the month's end (Jan 31 → Feb 28)."""
    months = count * (12 if interval == "year" else 1)
    years, month_index = divmod(anchor.month - 1 + months, 12)
    year, month = anchor.year + years, month_index + 1
    return anchor.replace(year=year, month=month, day=min(anchor.day, calendar.monthrange(year, month)[1]))


def _period_end_after(anchor: dt.datetime, interval: str, start: dt.datetime) -> dt.datetime:
    """The first whole interval from ``anchor`` that ends after ``start``: periods never drift."""
    count = 1
    while (end := add_interval(anchor, interval, count)) <= start:
        count += 1
    return end


def prorate(price: int, remaining: dt.timedelta, period: dt.timedelta) -> int:
    """``price × remaining / period`` in whole seconds, rounded half up to the fen."""
    total = max(int(period.total_seconds()), 1)
    left = min(max(int(remaining.total_seconds()), 0), total)
    return (2 * price * left + total) // (2 * total)


def _fee_share(charge: AppCharge, refunded: int) -> int:
    """The part of the charge's fee that ``refunded`` minor units of it carry, rounded half up."""
    if charge.amount <= 0:
        return 0
    return (2 * charge.fee * refunded + charge.amount) // (2 * charge.amount)


def check_return_url(url: str, *, field: str = "return_url") -> str:
    """An absolute http(s) URL with a host: where the merchant goes after deciding (never ``javascript:``)."""
    problem = None
    if not url or len(url) > 2000 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        problem = "Give an absolute http(s) URL of at most 2000 characters, without spaces."
    else:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            problem = "The return URL must be an absolute http:// or https:// URL."
        elif parts.username is not None or parts.password is not None:
            problem = "The return URL cannot contain a user name or password."
    if problem:
        raise errors.InvalidBillingRequest(problem, errors={field: [problem]})
    return url


def return_url_with(url: str, **params: str) -> str | None:
    """``url`` with ``params`` added to its query, or None when it is not a safe http(s) URL."""
    try:
        check_return_url(url)
    except errors.InvalidBillingRequest:
        return None
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _check_currency(shop: Shop, currency: str, *, field: str) -> None:
    if currency not in CURRENCIES or currency != shop.currency:
        detail = f"This shop pays in {shop.currency}; a charge in {currency} cannot be paid from its balance."
        raise errors.InvalidBillingRequest(detail, errors={field: [detail]})


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None

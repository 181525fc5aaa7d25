"""The service market's windows, limits and fee, and the rule for the free-text fields every move takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import structlog

from souk_marketplace.service_market.errors import InvalidServiceOrder

log = structlog.get_logger("souk.service_market")

DEFAULT_FEE_BPS = 2000  # the platform's share of what a provider earns: 20 %
REVIEW_WINDOW = {"small": dt.timedelta(days=3), "project": dt.timedelta(days=14)}
CLEARING_PERIOD = dt.timedelta(days=14)
OVERDUE_GRACE = dt.timedelta(hours=24)
EXTENSION_TTL = dt.timedelta(days=4)
ANSWER_WINDOW = dt.timedelta(days=5)
MEDIATION_WINDOW = dt.timedelta(days=30)
MAX_EXTENSION_DAYS = 30
MAX_TEXT = 5000
MAX_REQUIREMENTS = 20000


def fee_bps(config: Mapping[str, Any]) -> int:
    """The platform fee in basis points, from the app's settings."""
    return int(config.get("SOUK_MARKETPLACE_FEE_BPS", DEFAULT_FEE_BPS))


def _text(value: str | None, field: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidServiceOrder(f"Write the {field}.", errors={field: ["Required."]})
    if len(text) > limit:
        raise InvalidServiceOrder(
            f"The {field} is longer than {limit} characters.", errors={field: [f"At most {limit} characters."]}
        )
    return text

"""Service orders: placing with escrow, every party's move, disputes, messages, files, ratings and timers.

Money: placing moves the price from the shop's ``shop.balance`` into the order's own
``escrow.service_order`` account (owner = order id). Escrow leaves only to the provider's
``developer.earnings`` (owner = provider's user id) less the platform fee into ``platform.fees``, or
back to ``shop.balance``; every movement is one ``post_transfer`` with a dedupe key.

Milestones: every order has at least one (a small order has exactly one). A milestone that is not
the last is released to the provider as soon as the buyer accepts it (or it auto-completes) and the
next one starts; the last one goes through the order's 14-day CLEARING before it is released. A
dispute, a cancellation or an arbitration deals with whatever is still held.

Every function works in the caller's transaction and writes nothing when it raises, except the
timer sweeps, which commit each order on its own.

One module per section: ``cancelling``, ``delivery``, ``disputes``, ``escrow``, ``extensions``, ``lookups``,
``messages``, ``parties``, ``placing``, ``provider_figures``, ``ratings``, ``terms``, ``timers``. This package
re-exports the public names, so callers import from ``services`` as before.
"""

from __future__ import annotations

from souk_marketplace.service_market.services.cancelling import cancel_order
from souk_marketplace.service_market.services.delivery import accept_delivery, deliver, request_revision
from souk_marketplace.service_market.services.disputes import (
    ARBITRATION_DECISIONS,
    accept_offer,
    answer_dispute,
    arbitrate,
    escalate_dispute,
    make_offer,
    open_dispute,
)
from souk_marketplace.service_market.services.extensions import answer_extension, request_extension
from souk_marketplace.service_market.services.lookups import (
    disputes_stmt,
    escrow_balance,
    files_of,
    get_order,
    orders_stmt,
    pending_extension,
    timeline,
    timeline_stmt,
)
from souk_marketplace.service_market.services.messages import get_file, post_message, upload_file
from souk_marketplace.service_market.services.parties import SYSTEM_PARTY, Party
from souk_marketplace.service_market.services.placing import place_order, submit_requirements
from souk_marketplace.service_market.services.provider_figures import ProviderEarnings, provider_earnings, state_counts
from souk_marketplace.service_market.services.ratings import RATABLE_STATES, rate_provider, rating_of
from souk_marketplace.service_market.services.terms import (
    ANSWER_WINDOW,
    CLEARING_PERIOD,
    DEFAULT_FEE_BPS,
    EXTENSION_TTL,
    MAX_EXTENSION_DAYS,
    MAX_REQUIREMENTS,
    MAX_TEXT,
    MEDIATION_WINDOW,
    OVERDUE_GRACE,
    REVIEW_WINDOW,
    fee_bps,
    log,
)
from souk_marketplace.service_market.services.timers import (
    TIMERS,
    auto_complete,
    escalate_stale_mediations,
    expire_extensions,
    refund_unanswered_disputes,
    run_timers,
    settle,
)

__all__ = [
    "ANSWER_WINDOW",
    "ARBITRATION_DECISIONS",
    "CLEARING_PERIOD",
    "DEFAULT_FEE_BPS",
    "EXTENSION_TTL",
    "MAX_EXTENSION_DAYS",
    "MAX_REQUIREMENTS",
    "MAX_TEXT",
    "MEDIATION_WINDOW",
    "OVERDUE_GRACE",
    "RATABLE_STATES",
    "REVIEW_WINDOW",
    "SYSTEM_PARTY",
    "TIMERS",
    "Party",
    "ProviderEarnings",
    "accept_delivery",
    "accept_offer",
    "answer_dispute",
    "answer_extension",
    "arbitrate",
    "auto_complete",
    "cancel_order",
    "deliver",
    "disputes_stmt",
    "escalate_dispute",
    "escalate_stale_mediations",
    "escrow_balance",
    "expire_extensions",
    "fee_bps",
    "files_of",
    "get_file",
    "get_order",
    "log",
    "make_offer",
    "open_dispute",
    "orders_stmt",
    "pending_extension",
    "place_order",
    "post_message",
    "provider_earnings",
    "rate_provider",
    "rating_of",
    "refund_unanswered_disputes",
    "request_extension",
    "request_revision",
    "run_timers",
    "settle",
    "state_counts",
    "submit_requirements",
    "timeline",
    "timeline_stmt",
    "upload_file",
]

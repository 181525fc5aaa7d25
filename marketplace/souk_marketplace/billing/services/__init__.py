"""App billing rules: subscriptions and charges the merchant approves, usage, refunds, proration,
renewals, invoices, the payout hold and payouts. Plain functions: session, explicit arguments and ``now``.

Money rules (every movement is one ledger transfer with a dedupe key, so a retry never moves it twice):

- A charge of ``A`` moves shop.balance −A → developer.earnings_held +(A − fee) and platform.fees +fee, where
  ``fee = A × fee_bps / 10000`` rounded half up to the fen; the developer gets the rest, so the parts
  always sum to ``A`` exactly.
- A refund of ``R`` gives the shop +R back. The fee part reversed is cumulative and proportional:
  ``fee_share(refunded_after) − fee_share(refunded_before)`` with ``fee_share(x) = fee × x / A`` rounded
  half up, so refunding a charge in full returns exactly its fee. The developer's part comes out of the
  charge's own held earnings first, then the developer's other held earnings (newest first), then the
  available earnings.
- Proration on a plan change, measured in whole seconds of the current period: the unused part of the old
  plan, ``old price × remaining / period`` (half up), is credited back to the shop as a refund of the old
  plan's charges for the period; the new plan's part, ``new price × remaining / period`` (half up), is
  charged now when both plans have the same interval (the period stays); with a different interval the
  new plan starts a full period now at its full price. A trial in progress carries over to the new plan.
- Held earnings move to the developer's available earnings ``hold_days`` after the charge was paid.

One module per section: ``accounts``, ``charges``, ``collecting``, ``events``, ``exemptions``, ``invoices``,
``lookups``, ``payouts``, ``refunds``, ``renewals``, ``states``, ``subscriptions``, ``terms``. This package
re-exports the public names, so callers import from ``services`` as before.
"""

from __future__ import annotations

from souk_marketplace.billing import errors
from souk_marketplace.billing.services.charges import create_one_time_charge, record_usage
from souk_marketplace.billing.services.events import charge_payload, subscription_payload
from souk_marketplace.billing.services.exemptions import exempt_shops
from souk_marketplace.billing.services.invoices import issue_due_invoices, issue_invoice, month_bounds
from souk_marketplace.billing.services.lookups import (
    app_names,
    charges_stmt,
    current_subscription,
    find_billing_object,
    get_charge,
    get_invoice,
    get_subscription,
    invoices_stmt,
    plans_of,
    refunds_of,
    subscriptions_stmt,
)
from souk_marketplace.billing.services.payouts import (
    Balances,
    EarningsLine,
    developer_balances,
    developer_charges,
    due_payouts,
    earnings_report,
    pay_out,
    payouts_of,
    releasable_charge_ids,
    release_charge_earnings,
)
from souk_marketplace.billing.services.refunds import refund_charge
from souk_marketplace.billing.services.renewals import due_subscription_ids, renew_subscription
from souk_marketplace.billing.services.states import (
    APP_STATUSES,
    CHARGE_KINDS,
    CHARGE_STATUSES,
    LIVE,
    SUBSCRIPTION_STATES,
    TRANSITIONS,
)
from souk_marketplace.billing.services.subscriptions import approve, cancel_subscription, create_subscription, decline
from souk_marketplace.billing.services.terms import (
    AVAILABLE,
    HELD,
    MAX_AMOUNT,
    PAYOUT_EVERY,
    RENEWAL_RETRY,
    BillingTerms,
    add_interval,
    check_return_url,
    prorate,
    return_url_with,
    terms_from_config,
)

__all__ = [
    "APP_STATUSES",
    "AVAILABLE",
    "CHARGE_KINDS",
    "CHARGE_STATUSES",
    "HELD",
    "LIVE",
    "MAX_AMOUNT",
    "PAYOUT_EVERY",
    "RENEWAL_RETRY",
    "SUBSCRIPTION_STATES",
    "TRANSITIONS",
    "Balances",
    "BillingTerms",
    "EarningsLine",
    "add_interval",
    "app_names",
    "approve",
    "cancel_subscription",
    "charge_payload",
    "charges_stmt",
    "check_return_url",
    "create_one_time_charge",
    "create_subscription",
    "current_subscription",
    "decline",
    "developer_balances",
    "developer_charges",
    "due_payouts",
    "due_subscription_ids",
    "earnings_report",
    "errors",
    "exempt_shops",
    "find_billing_object",
    "get_charge",
    "get_invoice",
    "get_subscription",
    "invoices_stmt",
    "issue_due_invoices",
    "issue_invoice",
    "month_bounds",
    "pay_out",
    "payouts_of",
    "plans_of",
    "prorate",
    "record_usage",
    "refund_charge",
    "refunds_of",
    "releasable_charge_ids",
    "release_charge_earnings",
    "renew_subscription",
    "return_url_with",
    "subscription_payload",
    "subscriptions_stmt",
    "terms_from_config",
]

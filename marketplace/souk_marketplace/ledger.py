"""The marketplace's ledger account kinds (app billing, payouts, crowdfunding and service escrow).

Added to the platform's ``ACCOUNT_KINDS`` when the marketplace registers; kind -> may the balance go below zero?
"""

from __future__ import annotations

ACCOUNT_KINDS: dict[str, bool] = {
    "developer.earnings_held": False,  # a developer's earnings inside the payout hold period
    "developer.earnings": False,  # a developer's earnings that may be paid out
    "platform.fees": False,  # the platform's fee income
    "platform.payouts_clearing": True,  # money leaving to developers' and providers' bank accounts
    "escrow.pledge": False,  # one crowdfunding pledge, held until release or refund
    "escrow.service_order": False,  # one service-market order's funds, held until settled or refunded
}

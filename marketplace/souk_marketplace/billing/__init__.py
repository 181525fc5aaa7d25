"""App billing: subscriptions and charges the merchant approves, usage, refunds, invoices and developer payouts.

Every movement of money is one ledger transfer with a dedupe key: shop.balance → developer.earnings_held
(the charge minus the platform fee) + platform.fees; after the hold period held → developer.earnings;
payouts developer.earnings → platform.payouts_clearing.
"""

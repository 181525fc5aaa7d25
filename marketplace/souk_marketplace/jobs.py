"""The marketplace's timers, added to the app's periodic jobs when the extension registers."""

from __future__ import annotations

from souk_platform.jobs.runner import PeriodicJob

# name, dotted path of a job function (it runs inside an app context and commits its own work), seconds.
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("recheck-listing-submissions", "souk_marketplace.listings.tasks.sweep_stale_checks", 300),
    PeriodicJob("bill-app-subscriptions", "souk_marketplace.billing.tasks.bill_subscriptions", 600),
    PeriodicJob("release-developer-earnings", "souk_marketplace.billing.tasks.release_earnings", 3600),
    PeriodicJob("pay-out-developers", "souk_marketplace.billing.tasks.pay_out_developers", 3600),
    PeriodicJob("issue-billing-invoices", "souk_marketplace.billing.tasks.issue_invoices", 3600),
    PeriodicJob("enforce-requirement-timers", "souk_marketplace.requirements.tasks.enforce_requirement_timers", 300),
    PeriodicJob("service-order-timers", "souk_marketplace.service_market.tasks.run_service_order_timers", 60),
)

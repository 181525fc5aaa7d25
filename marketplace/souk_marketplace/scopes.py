"""The marketplace's merchant-side capabilities, added to the platform's scope registry when it registers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# domain: (what read_<domain> lets an app do, what write_<domain> lets it do), for the consent page
SCOPE_DOMAINS = {
    "billing": (_l("See app charges, subscriptions and invoices"), _l("Approve, decline and cancel app charges")),
    "requirements": (
        _l("See custom requirements, pledges and proposals"),
        _l("Post requirements, pledge, vote and accept proposals"),
    ),
    "services": (_l("See service-market orders"), _l("Order services, accept deliveries and open disputes")),
}

"""The listing terms: categories, languages, field limits, the review checklist, how long checks may take."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l

CHECK_JOB = "souk_marketplace.listings.tasks.run_submission_checks"
# A submission still "checking" this long after it was sent lost its job (a flushed queue, a killed
# worker): the periodic sweep runs its checks again. Longer than the slowest run (every webhook timing out).
STALE_CHECKS_AFTER = dt.timedelta(minutes=15)

# The fixed category list: id → label (the market shows the label in the viewer's language).
CATEGORIES: dict[str, Any] = {
    "marketing": _l("Marketing"),
    "loyalty": _l("Loyalty and points"),
    "risk": _l("Risk control"),
    "orders": _l("Orders"),
    "analytics": _l("Analytics"),
    "operations": _l("Operations tools"),
}
LANGUAGES = ("en", "zh_CN")
TEXT_FIELDS = {"name": 100, "tagline": 140, "description": 5000}  # field → most characters
MAX_SCREENSHOTS = 6
MAX_CHANGELOG = 5000
MAX_JUSTIFICATION = 1000
MAX_REASON = 2000

# What a reviewer confirms before approving: every item must be ticked.
REVIEW_CHECKLIST: dict[str, Any] = {
    "description_accurate": _l("The description says truthfully what the app does"),
    "screenshots_real": _l("The screenshots show the real app"),
    "scopes_justified": _l("Every requested scope is needed, as its justification says"),
    "privacy_url_works": _l("The privacy policy URL opens a real privacy policy"),
    "plugins_sensible": _l("The plugins do what the listing says, and nothing else"),
}

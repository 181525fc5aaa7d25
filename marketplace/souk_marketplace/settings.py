"""The marketplace's ``SOUK_*`` settings, read once from the environment when the extension registers.

Billing reads the fee, hold and payout minimum; crowdfunding the fee, hold and vote window; the
service market the fee. A config given to ``create_app`` wins over the environment (tests set their own).
"""

from __future__ import annotations

from collections.abc import Mapping

from souk_marketplace.billing.services import MAX_AMOUNT

_SETTINGS = {
    # config key: (default, lowest, highest)
    "SOUK_MARKETPLACE_FEE_BPS": (2000, 0, 10_000),
    "SOUK_PAYOUT_HOLD_DAYS": (7, 0, 365),
    "SOUK_PAYOUT_MINIMUM": (10_000, 1, MAX_AMOUNT),
    "SOUK_REQUIREMENT_VOTE_DAYS": (7, 1, 60),
}


def settings_from_env(environ: Mapping[str, str]) -> dict[str, int]:
    """The marketplace's ``SOUK_*`` settings (fee, payout hold and minimum, requirement vote window) as config.

    Raises ``ValueError`` naming the variable when one is not a whole number in its range.
    """
    settings = {}
    for name, (default, low, high) in _SETTINGS.items():
        raw = environ.get(name, "").strip()
        if not raw:
            settings[name] = default
            continue
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
        settings[name] = int(raw)
    return settings

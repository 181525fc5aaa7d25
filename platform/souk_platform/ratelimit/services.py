"""Which limit applies to a caller, and which bucket it draws from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from souk_platform.apps.models import AppVersion, Installation
from souk_platform.auth.services import Principal
from souk_platform.db import DbSession
from souk_platform.ratelimit.buckets import Policy


def bucket_key(principal: Principal) -> str:
    """One bucket per installation (= per app and shop) for OAuth tokens, per token for staff tokens."""
    if principal.installation_id:
        return f"ins:{principal.installation_id}"
    return f"tok:{principal.token_id}"


def plan_policy(manifest: Mapping[str, Any]) -> Policy | None:
    """The ``rate_limit`` of the manifest's first pricing plan, if it has a usable one.

    The plan a merchant chose at install is not recorded yet, so the first plan stands for all. Pricing
    may be a list of plans or ``{"plans": [...]}``; anything malformed means "no plan limit".
    """
    pricing = manifest.get("pricing")
    plans = pricing.get("plans") if isinstance(pricing, Mapping) else pricing
    if not isinstance(plans, list) or not plans or not isinstance(plans[0], Mapping):
        return None
    limit = plans[0].get("rate_limit")
    if not isinstance(limit, Mapping):
        return None
    rate, burst = limit.get("requests_per_second"), limit.get("burst")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        return None
    if burst is None:
        burst = max(1, int(rate))
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        return None
    return Policy(float(rate), burst)


def policy_for(session: DbSession, principal: Principal, *, default: Policy) -> Policy:
    """The limit for this caller: its installation's plan limit, else the platform default."""
    if not principal.installation_id:
        return default
    manifest = session.scalar(
        sa.select(AppVersion.manifest)
        .join(Installation, Installation.app_version_id == AppVersion.id)
        .where(Installation.id == principal.installation_id, Installation.shop_id == principal.shop_id)
    )
    return (plan_policy(manifest) if isinstance(manifest, Mapping) else None) or default

"""What an action node does (docs/architecture.md §5.12). Each handler runs in the advancing transaction, next
to the step row it is recorded by, and hands the step key ``journey:<enrollment>:<seq>`` on as its idempotency
key, so a step redone after a crash acts once.

A handler returns the step's outcome (what it did). A domain refusal (a coupon no longer issuable, a rule tag)
raises ``SoukError``: the step is recorded ``skipped`` with the reason and the customer moves on.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from souk_platform.core.errors import SoukError
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.journeys.models import JourneyEnrollment


class ActionSkipped(SoukError):
    """An action that cannot act for this customer (the step records why and the customer moves on)."""

    status = 409
    code = "journey-action-skipped"
    title = "The journey action did nothing"


@dataclass(frozen=True, slots=True)
class ActionContext:
    session: DbSession
    enrollment: JourneyEnrollment
    node_id: str
    step_key: str
    now: dt.datetime


Handler = Callable[[ActionContext, Mapping[str, Any]], dict[str, Any]]


def _issue_coupon(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    from souk_platform.coupons.wallet import issue_coupon

    entry = issue_coupon(
        ctx.session,
        shop_id=ctx.enrollment.shop_id,
        coupon_id=str(params.get("coupon_id")),
        customer_id=ctx.enrollment.customer_id,
        source="journey",
        source_id=ctx.step_key,
        now=ctx.now,
    )
    ctx.session.flush()
    return {"wallet_coupon_id": entry.id, "coupon_id": entry.coupon_id}


def _grant_benefit(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    from souk_platform.benefits.services import get_package, grant_package

    package = get_package(ctx.session, shop_id=ctx.enrollment.shop_id, package_id=str(params.get("package_id")))
    if package.status != "active":
        raise ActionSkipped(f"The benefit package {package.id} is disabled.")
    grant, new = grant_package(
        ctx.session, package=package, customer_id=ctx.enrollment.customer_id, period=ctx.step_key, now=ctx.now
    )
    return {"benefit_grant_id": grant.id, "new": new}


def _award_points(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    from souk_platform.points.services import award_points

    points = award_points(
        ctx.session,
        shop_id=ctx.enrollment.shop_id,
        customer_id=ctx.enrollment.customer_id,
        points=int(params.get("points") or 0),
        reason=f"journey {ctx.enrollment.journey_id}",
        reference=ctx.enrollment.journey_id,
        dedupe_key=ctx.step_key,
        now=ctx.now,
    )
    return {"points": points}


def _add_tag(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    from souk_platform.tags.services import tag_customers

    added = tag_customers(
        ctx.session,
        shop_id=ctx.enrollment.shop_id,
        tag_id=str(params.get("tag_id")),
        customer_ids=[ctx.enrollment.customer_id],
    )
    return {"tag_id": params.get("tag_id"), "added": bool(added)}


def _remove_tag(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    from souk_platform.tags.services import untag_customer

    removed = untag_customer(
        ctx.session,
        shop_id=ctx.enrollment.shop_id,
        tag_id=str(params.get("tag_id")),
        customer_id=ctx.enrollment.customer_id,
    )
    return {"tag_id": params.get("tag_id"), "removed": removed}


def _coupon_given(ctx: ActionContext) -> dict[str, str]:
    """``coupon_code``/``coupon_name`` of the last coupon this enrolment was given, for a message's template."""
    import sqlalchemy as sa

    from souk_platform.coupons.models import Coupon
    from souk_platform.journeys.models import JourneyStep

    outcomes = ctx.session.scalars(
        sa.select(JourneyStep.outcome)
        .where(JourneyStep.enrollment_id == ctx.enrollment.id, JourneyStep.node_type == "action")
        .order_by(JourneyStep.seq.desc())
    )
    for outcome in outcomes:
        coupon_id = outcome.get("coupon_id") if isinstance(outcome, Mapping) else None
        if coupon_id:
            coupon = ctx.session.get(Coupon, coupon_id)
            return {"coupon_code": coupon.code or "", "coupon_name": coupon.name} if coupon is not None else {}
    return {}


def messaging_services() -> Any:
    """Messaging (§5.11) is its own domain, imported when a journey first sends through it."""
    return importlib.import_module("souk_platform.messaging.services")


def _trigger_values(ctx: ActionContext) -> dict[str, str]:
    """``product_title`` of the product a behaviour trigger was about (a cart left behind), for the template."""
    trigger = ctx.enrollment.trigger_event_id
    if not trigger or not trigger.startswith("cev_"):
        return {}
    from souk_platform.behaviour.models import CustomerEvent
    from souk_platform.catalog.models import Product

    event = ctx.session.get(CustomerEvent, trigger)
    product_id = event.properties.get("product_id") if event is not None else None
    if event is None or not isinstance(product_id, str):
        return {}
    product = ctx.session.get(Product, product_id)
    return {"product_title": product.title} if product is not None and product.shop_id == event.shop_id else {}


def _send_message(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    try:
        messaging = messaging_services()
    except ImportError as missing:
        raise ActionSkipped("Messaging is not available on this platform.") from missing
    variables = {**_trigger_values(ctx), **_coupon_given(ctx), **dict(params.get("variables") or {})}
    message = messaging.send_message(
        ctx.session,
        shop_id=ctx.enrollment.shop_id,
        customer_id=ctx.enrollment.customer_id,
        channel_id=params.get("channel_id"),
        template_id=params.get("template_id"),
        variables=variables,
        source="journey",
        source_id=ctx.enrollment.id,
        idempotency_key=ctx.step_key,
        now=ctx.now,
    )
    return {"message_id": getattr(message, "id", None), "status": getattr(message, "status", None)}


def _notify_apps(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    enrollment = ctx.enrollment
    emit(
        ctx.session,
        shop_id=enrollment.shop_id,
        type="journey.action",
        subject_type="journey_enrollment",
        subject_id=enrollment.id,
        payload={
            "id": ctx.step_key,
            "journey_id": enrollment.journey_id,
            "enrollment_id": enrollment.id,
            "customer_id": enrollment.customer_id,
            "node_id": ctx.node_id,
            "label": str(params.get("label") or ""),
            "variant": enrollment.variant,
            "version": 1,
        },
        created_at=ctx.now,
    )
    return {"notified": True, "label": params.get("label")}


ACTIONS: dict[str, Handler] = {
    "issue_coupon": _issue_coupon,
    "grant_benefit": _grant_benefit,
    "award_points": _award_points,
    "add_tag": _add_tag,
    "remove_tag": _remove_tag,
    "send_message": _send_message,
    "notify_apps": _notify_apps,
}


# Actions whose refusals are all raised before they write anything (the wallet checks the coupon and its limits
# first, points check the amount and the customer, tags the tag and the customer): they need no savepoint of
# their own — two round trips saved per step. The others (a benefit grant writes before its items can refuse; a
# message is another domain's) run in a savepoint so a refusal leaves nothing behind.
REFUSE_BEFORE_WRITING = frozenset({"issue_coupon", "award_points", "add_tag", "remove_tag", "notify_apps"})


def perform(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Run the action ``params["action"]``; raises ``SoukError`` when it cannot act."""
    handler = ACTIONS.get(str(params.get("action")))
    if handler is None:
        raise ActionSkipped(f"Unknown action {params.get('action')!r}.")
    return handler(ctx, params)

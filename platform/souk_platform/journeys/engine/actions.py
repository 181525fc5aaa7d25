"""What an action node does (docs/architecture.md §5.12). Each handler runs in the advancing transaction, next
to the step row it is recorded by, and hands the step key ``journey:<enrollment>:<seq>`` on as its idempotency
key, so a step redone after a crash acts once.

A handler returns the step's outcome (what it did). A domain refusal (a coupon no longer issuable, a rule tag)
raises ``SoukError``: the step is recorded ``skipped`` with the reason and the customer moves on.

``send_message`` also keeps the journey's settings: at its ``frequency_cap`` the step is skipped (reason
``frequency_cap``), and a send due inside its ``quiet_hours`` is handed to messaging to go out when they end.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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


class FrequencyCapReached(ActionSkipped):
    """The customer already had the journey's ``frequency_cap`` of messages on this channel (the step's reason)."""

    code = "frequency_cap"
    title = "The journey's frequency cap is reached"


@dataclass(frozen=True, slots=True)
class ActionContext:
    session: DbSession
    enrollment: JourneyEnrollment
    node_id: str
    step_key: str
    now: dt.datetime
    # The enrolment's version's ``settings`` (quiet hours, frequency cap) and the shop's timezone they are read in.
    settings: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"


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


def _issue_coupons(contexts: Sequence[ActionContext], params: Mapping[str, Any]) -> list[dict[str, Any] | SoukError]:
    """``issue_coupon`` for the steps of one batch that give one coupon (one shop): the wallet's batch form, in a
    fixed number of statements; each step's outcome, or the refusal it records."""
    from souk_platform.coupons.wallet import CouponGrant, issue_coupons

    if not contexts:
        return []
    try:
        issued = issue_coupons(
            contexts[0].session,
            shop_id=contexts[0].enrollment.shop_id,
            coupon_id=str(params.get("coupon_id")),
            grants=[CouponGrant(ctx.enrollment.customer_id, ctx.step_key) for ctx in contexts],
            source="journey",
            now=contexts[0].now,
        )
    except SoukError as refusal:  # the coupon is not the shop's: every step refuses the same way
        return [refusal] * len(contexts)
    return [
        entry if isinstance(entry, SoukError) else {"wallet_coupon_id": entry.id, "coupon_id": entry.coupon_id}
        for entry in issued
    ]


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


def _check_frequency_cap(ctx: ActionContext, channel_id: Any) -> None:
    """Refuse a send when the customer already had the cap's ``messages`` on this channel from this journey (any
    of its enrolments, any version) in the last ``days`` days; suppressed messages were never sent and do not
    count, scheduled ones do. The customer's row lock (messaging takes the same one) keeps two sends in order."""
    cap = ctx.settings.get("frequency_cap")
    if not isinstance(cap, Mapping) or not channel_id:
        return
    import sqlalchemy as sa

    from souk_platform.customers.services import get_customer
    from souk_platform.messaging.models import Message

    enrollment = ctx.enrollment
    get_customer(ctx.session, shop_id=enrollment.shop_id, customer_id=enrollment.customer_id, for_update=True)
    enrollments = sa.select(JourneyEnrollment.id).where(
        JourneyEnrollment.journey_id == enrollment.journey_id,
        JourneyEnrollment.customer_id == enrollment.customer_id,
    )
    sent = ctx.session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(
            Message.shop_id == enrollment.shop_id,
            Message.customer_id == enrollment.customer_id,
            Message.channel_id == str(channel_id),
            Message.source == "journey",
            Message.source_id.in_(enrollments),
            Message.status != "suppressed",
            Message.created_at > ctx.now - dt.timedelta(days=int(cap["days"])),
        )
    )
    if int(sent or 0) >= int(cap["messages"]):
        raise FrequencyCapReached(
            f"The customer had {sent} messages on this channel from this journey in the last {cap['days']} days "
            f"(the cap is {cap['messages']})."
        )


def _quiet_until(ctx: ActionContext, messaging: Any) -> dt.datetime | None:
    """The end of the journey's quiet hours when ``now`` falls in them (UTC), else None."""
    quiet = ctx.settings.get("quiet_hours")
    if not isinstance(quiet, Mapping):
        return None
    end: dt.datetime | None = messaging.quiet_window_end(quiet.get("start"), quiet.get("end"), ctx.timezone, ctx.now)
    return end


def _send_message(ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    try:
        messaging = messaging_services()
    except ImportError as missing:
        raise ActionSkipped("Messaging is not available on this platform.") from missing
    _check_frequency_cap(ctx, params.get("channel_id"))
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
        not_before=_quiet_until(ctx, messaging),
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


BatchHandler = Callable[[Sequence[ActionContext], Mapping[str, Any]], list[dict[str, Any] | SoukError]]


@dataclass(frozen=True, slots=True)
class BatchAction:
    """An action the engine performs for many steps of a batch at once: the steps whose params have the same
    ``group`` (and shop) act together, groups in ``group`` order (a coupon's row lock: taken in id order)."""

    group: Callable[[Mapping[str, Any]], str]
    perform: BatchHandler


# Actions with a batch form: the advance batch parks the steps that reach them and performs them together.
BATCHED: dict[str, BatchAction] = {
    "issue_coupon": BatchAction(group=lambda params: str(params.get("coupon_id")), perform=_issue_coupons),
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

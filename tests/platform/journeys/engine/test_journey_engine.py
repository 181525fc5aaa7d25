"""The journey engine (docs/architecture.md §5.12): intake from the outbox and behaviour events, advancing
enrolments step by step exactly once, waits, conditions, splits, goals, exits and periodic triggers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.behaviour.services import record_events
from souk_platform.core.clock import FrozenClock
from souk_platform.coupons import services as coupons
from souk_platform.coupons.models import CustomerCoupon
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.journeys import engine
from souk_platform.journeys.engine.models import JourneyInboxEvent, JourneyTriggerRun
from souk_platform.journeys.models import JourneyEnrollment, JourneyStep
from souk_platform.points.services import points_balance
from souk_platform.tags.services import create_segment, create_tag
from souk_platform.webhooks.services import dispatch_outbox

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
EVERYONE = {"op": "and", "conditions": [{"field": "orders_count", "cmp": "gte", "value": 0}]}


def node(type: str, params: dict[str, Any] | None = None, **next: str) -> dict[str, Any]:
    return {"type": type, "params": params or {}, "next": next, "position": {"x": 0, "y": 0}}


def graph(nodes: dict[str, Any], *, goal: Any = None, exit: Any = None, reentry: Any = "never") -> dict[str, Any]:
    return {"entry": "start", "nodes": nodes, "goal": goal, "exit": exit or [], "settings": {"reentry": reentry}}


def _coupon(session, shop_id: str):
    fields = {"code": "BACK", "name": "回购券", "kind": "fixed", "value": 1000, "distribution": "issued"}
    coupon = coupons.create_coupon(session, shop_id=shop_id, fields=fields)
    session.commit()
    return coupon


def _paid(session, shop_id: str, customer_id: str, total: int, *, at: dt.datetime = NOW) -> str:
    event = emit(
        session,
        shop_id=shop_id,
        type="order.paid",
        subject_type="order",
        subject_id=f"ord_{customer_id[-6:]}{total}",
        payload={"id": "ord_x", "customer_id": customer_id, "status": "paid", "total": total, "version": 2},
        created_at=at,
    )
    session.commit()
    return event.id


def _dispatch(session, now: dt.datetime = NOW) -> None:
    while dispatch_outbox(session, clock=FrozenClock(now))[0]:
        session.commit()
    session.commit()


def _run(session, now: dt.datetime = NOW) -> None:
    """What the jobs do: dispatch the outbox into the inbox, drain it, advance every due enrolment."""
    _dispatch(session, now)
    while engine.drain(session, now=now):
        session.commit()
    while engine.advance_batch(session, now=now):
        session.commit()
    session.commit()


def _enrollments(session, journey_id: str) -> list[JourneyEnrollment]:
    stmt = sa.select(JourneyEnrollment).where(JourneyEnrollment.journey_id == journey_id)
    return list(session.scalars(stmt.order_by(JourneyEnrollment.customer_id).execution_options(populate_existing=True)))


def _steps(session, enrollment_id: str) -> list[tuple[int, str, str | None, str]]:
    rows = session.execute(
        sa.select(JourneyStep.seq, JourneyStep.node_id, JourneyStep.exit_taken, JourneyStep.status)
        .where(JourneyStep.enrollment_id == enrollment_id)
        .order_by(JourneyStep.seq)
    )
    return [tuple(row) for row in rows]


def _wallet(session, coupon_id: str) -> list[str]:
    stmt = sa.select(CustomerCoupon.customer_id).where(CustomerCoupon.coupon_id == coupon_id)
    return sorted(session.scalars(stmt))


def _events(session, shop_id: str, type: str) -> list[OutboxEvent]:
    stmt = sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop_id, OutboxEvent.type == type)
    return list(session.scalars(stmt.order_by(OutboxEvent.id)))


def test_a_big_order_enrols_the_buyer_who_gets_a_coupon_then_points_a_day_later_once(
    session, make_journey, make_customers
):
    shop = ShopFactory()
    big, small = make_customers(shop.id, 2)
    coupon = _coupon(session, shop.id)
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node(
                    "trigger",
                    {
                        "kind": "event",
                        "event": "order.paid",
                        "filter": [{"path": "total", "op": "gte", "value": 50000}],
                    },
                    default="gift",
                ),
                "gift": node("action", {"action": "issue_coupon", "coupon_id": coupon.id}, default="wait"),
                "wait": node("wait", {"kind": "duration", "seconds": 86400}, default="points"),
                "points": node("action", {"action": "award_points", "points": 30}, default="end"),
                "end": node("exit"),
            }
        ),
    )
    _paid(session, shop.id, big.id, 60000)
    _paid(session, shop.id, small.id, 100)
    _dispatch(session)
    # Only the event a journey's trigger listens to reaches the inbox (both are order.paid: the filter is the
    # engine's); the enrolment follows from draining it.
    assert session.scalar(sa.select(sa.func.count()).select_from(JourneyInboxEvent)) == 2
    _run(session)
    (enrollment,) = _enrollments(session, journey.id)
    assert enrollment.customer_id == big.id
    assert (enrollment.status, enrollment.current_node) == ("waiting", "wait")
    assert enrollment.wake_at == NOW + DAY
    assert _wallet(session, coupon.id) == [big.id]
    assert session.scalar(sa.select(sa.func.count()).select_from(JourneyInboxEvent)) == 0
    # Running again early changes nothing; a day later the wait is over, points come, the journey completes.
    _run(session, NOW + dt.timedelta(hours=23))
    assert points_balance(session, shop_id=shop.id, customer_id=big.id) == 0
    _run(session, NOW + DAY)
    _run(session, NOW + 2 * DAY)
    (enrollment,) = _enrollments(session, journey.id)
    assert (enrollment.status, enrollment.exit_reason) == ("completed", "completed")
    assert points_balance(session, shop_id=shop.id, customer_id=big.id) == 30
    assert _wallet(session, coupon.id) == [big.id]
    assert _steps(session, enrollment.id) == [
        (1, "start", "default", "done"),
        (2, "gift", "default", "done"),
        (3, "wait", "default", "done"),
        (4, "points", "default", "done"),
        (5, "end", None, "done"),
    ]
    entry = session.scalar(sa.select(CustomerCoupon).where(CustomerCoupon.coupon_id == coupon.id))
    assert (entry.source, entry.source_id) == ("journey", f"journey:{enrollment.id}:2")
    assert [e.payload["customer_id"] for e in _events(session, shop.id, "journey.enrolled")] == [big.id]
    assert [e.payload["exit_reason"] for e in _events(session, shop.id, "journey.exited")] == ["completed"]
    # The same order event delivered again enrols nobody twice (re-entry "never").
    _paid(session, shop.id, big.id, 70000)
    _run(session, NOW + 2 * DAY)
    assert len(_enrollments(session, journey.id)) == 1


def test_shops_without_journeys_put_nothing_in_the_inbox(session, make_journey, make_customers):
    shop, other = ShopFactory(), ShopFactory()
    (customer,) = make_customers(shop.id, 1)
    (theirs,) = make_customers(other.id, 1)
    make_journey(other.id, graph({"start": node("trigger", {"kind": "event", "event": "coupon.issued"})}))
    _paid(session, shop.id, customer.id, 60000)
    _paid(session, other.id, theirs.id, 60000)  # the other shop's journey listens to coupon.issued only
    _dispatch(session)
    assert session.scalar(sa.select(sa.func.count()).select_from(JourneyInboxEvent)) == 0


def test_a_skipped_action_says_why_and_the_customer_moves_on(session, make_journey, make_customers):
    shop = ShopFactory()
    (customer,) = make_customers(shop.id, 1)
    coupon = _coupon(session, shop.id)
    coupons.update_coupon(
        session, shop_id=shop.id, coupon_id=coupon.id, changes={"status": "disabled"}, expected_version=None
    )
    session.commit()
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node("trigger", {"kind": "event", "event": "order.paid"}, default="gift"),
                "gift": node("action", {"action": "issue_coupon", "coupon_id": coupon.id}, default="end"),
                "end": node("exit"),
            }
        ),
    )
    _paid(session, shop.id, customer.id, 100)
    _run(session)
    (enrollment,) = _enrollments(session, journey.id)
    assert enrollment.status == "completed"
    step = session.scalar(
        sa.select(JourneyStep).where(JourneyStep.enrollment_id == enrollment.id, JourneyStep.seq == 2)
    )
    assert step.status == "skipped" and step.outcome["reason"] == "coupon-not-issuable"
    assert _wallet(session, coupon.id) == []


def test_an_event_wait_wakes_on_the_event_or_times_out(session, make_journey, make_customers):
    shop = ShopFactory()
    buyer, idle = make_customers(shop.id, 2)
    tag = create_tag(session, shop_id=shop.id, name="回流", kind="manual", now=NOW)
    nudged = create_tag(session, shop_id=shop.id, name="催付", kind="manual", now=NOW)
    session.commit()
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node("trigger", {"kind": "behaviour", "event": "cart_added"}, default="wait"),
                "wait": node(
                    "wait",
                    {"kind": "event", "event": "order.paid", "timeout_seconds": 3600},
                    event="bought",
                    timeout="nudge",
                ),
                "bought": node("action", {"action": "add_tag", "tag_id": tag.id}, default="end"),
                "nudge": node("action", {"action": "add_tag", "tag_id": nudged.id}, default="end"),
                "end": node("exit"),
            }
        ),
    )
    for i, customer in enumerate((buyer, idle)):
        record_events(
            session,
            shop_id=shop.id,
            events=[
                {
                    "event_id": f"e{i}",
                    "customer_id": customer.id,
                    "type": "cart_added",
                    "occurred_at": NOW,
                    "properties": {},
                }
            ],
            now=NOW,
            retention=dt.timedelta(days=400),
        )
        session.commit()
    _run(session)
    assert [(e.status, e.waiting_event) for e in _enrollments(session, journey.id)] == [("waiting", "order.paid")] * 2
    _paid(session, shop.id, buyer.id, 100, at=NOW + dt.timedelta(minutes=10))
    _run(session, NOW + dt.timedelta(minutes=10))
    _run(session, NOW + dt.timedelta(hours=2))
    by_customer = {e.customer_id: e for e in _enrollments(session, journey.id)}
    assert [s[2] for s in _steps(session, by_customer[buyer.id].id)][:2] == ["default", "event"]
    assert [s[2] for s in _steps(session, by_customer[idle.id].id)][:2] == ["default", "timeout"]
    from souk_platform.tags.models import CustomerTag

    tagged = set(session.execute(sa.select(CustomerTag.tag_id, CustomerTag.customer_id)).tuples())
    assert (tag.id, buyer.id) in tagged and (nudged.id, idle.id) in tagged
    assert (tag.id, idle.id) not in tagged and (nudged.id, buyer.id) not in tagged


def test_goal_converts_with_revenue_even_after_completing_and_exit_rules_take_customers_out(
    session, make_journey, make_customers
):
    shop = ShopFactory()
    a, b, c = make_customers(shop.id, 3)
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node("trigger", {"kind": "behaviour", "event": "product_viewed"}, default="split"),
                "split": node("split", {"variants": [{"key": "a", "weight": 1}], "holdout_percent": 0}, a="wait"),
                "wait": node("wait", {"kind": "duration", "seconds": 7 * 86400}, default="end"),
                "end": node("exit"),
            },
            goal={"event": "order.paid", "within_days": 3},
            exit=[{"kind": "event", "event": "customer.updated"}],
        ),
    )
    for i, customer in enumerate((a, b, c)):
        record_events(
            session,
            shop_id=shop.id,
            events=[
                {
                    "event_id": f"v{i}",
                    "customer_id": customer.id,
                    "type": "product_viewed",
                    "occurred_at": NOW,
                    "properties": {},
                }
            ],
            now=NOW,
            retention=dt.timedelta(days=400),
        )
        session.commit()
    _run(session)
    _paid(session, shop.id, a.id, 12345, at=NOW + DAY)
    emit(
        session,
        shop_id=shop.id,
        type="customer.updated",
        subject_type="customer",
        subject_id=b.id,
        payload={"id": b.id, "version": 2},
        created_at=NOW + DAY,
    )
    session.commit()
    _run(session, NOW + DAY)
    _paid(session, shop.id, c.id, 999, at=NOW + 5 * DAY)  # too late for the goal
    _run(session, NOW + 5 * DAY)
    by_customer = {e.customer_id: e for e in _enrollments(session, journey.id)}
    assert (by_customer[a.id].status, by_customer[a.id].exit_reason, by_customer[a.id].goal_revenue) == (
        "exited",
        "goal",
        12345,
    )
    assert (by_customer[b.id].status, by_customer[b.id].exit_reason) == ("exited", "exit_rule")
    assert by_customer[c.id].status == "waiting" and by_customer[c.id].goal_reached_at is None
    assert [e.payload["customer_id"] for e in _events(session, shop.id, "journey.goal_reached")] == [a.id]


def test_conditions_and_splits_pick_branches_deterministically_with_a_holdout(session, make_journey, make_customers):
    shop = ShopFactory()
    customers = make_customers(shop.id, 40)
    vip = create_tag(session, shop_id=shop.id, name="VIP", kind="manual", now=NOW)
    session.commit()
    from souk_platform.tags.services import tag_customers

    tag_customers(session, shop_id=shop.id, tag_id=vip.id, customer_ids=[c.id for c in customers[:10]])
    session.commit()
    segment = create_segment(session, shop_id=shop.id, name="全部", description=None, condition=EVERYONE)
    session.commit()
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node("trigger", {"kind": "segment_entered", "segment_id": segment.id}, default="vip"),
                "vip": node(
                    "condition",
                    {"condition": {"op": "and", "conditions": [{"field": "tag", "cmp": "has", "value": vip.id}]}},
                    yes="end",
                    no="split",
                ),
                "split": node(
                    "split",
                    {"variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}], "holdout_percent": 30},
                    a="end",
                    b="end",
                    holdout="end",
                ),
                "end": node("exit"),
            }
        ),
    )
    assert engine.run_periodic_triggers(session, now=NOW) == 40
    session.commit()
    assert engine.run_periodic_triggers(session, now=NOW) == 0  # run twice: nobody enters twice
    _run(session)
    enrollments = _enrollments(session, journey.id)
    assert all(e.status == "completed" for e in enrollments)
    vips = {c.id for c in customers[:10]}
    assert {e.customer_id for e in enrollments if e.variant is None} == vips
    variants = [e.variant for e in enrollments if e.customer_id not in vips]
    assert set(variants) == {"a", "b", "holdout"}
    from souk_platform.journeys.engine.split import weighted_branch

    params = {"variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}], "holdout_percent": 30}
    for e in enrollments:
        if e.customer_id not in vips:
            assert weighted_branch(params, enrollment_id=e.id, node_id="split") == e.variant


def test_paused_journeys_hold_customers_and_archived_ones_let_them_go(session, make_journey, make_customers):
    shop = ShopFactory()
    (customer,) = make_customers(shop.id, 1)
    nodes = {
        "start": node("trigger", {"kind": "event", "event": "order.paid"}, default="end"),
        "end": node("exit"),
    }
    journey = make_journey(shop.id, graph(nodes))
    _paid(session, shop.id, customer.id, 100)
    _dispatch(session)
    while engine.drain(session, now=NOW):
        session.commit()
    journey.status = "paused"
    session.commit()
    _run(session)
    (enrollment,) = _enrollments(session, journey.id)
    assert enrollment.status == "ready"
    journey.status = "archived"
    session.commit()
    _run(session)
    (enrollment,) = _enrollments(session, journey.id)
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "archived")


def test_a_schedule_fires_once_per_occurrence_and_reentry_after_exit(session, make_journey, make_customers):
    shop = ShopFactory()
    make_customers(shop.id, 3)
    segment = create_segment(session, shop_id=shop.id, name="全部", description=None, condition=EVERYONE)
    session.commit()
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node(
                    "trigger",
                    {"kind": "schedule", "segment_id": segment.id, "at": "2026-03-01T09:00:00Z", "repeat": "daily"},
                    default="end",
                ),
                "end": node("exit"),
            },
            reentry="after_exit",
        ),
    )
    journey.activated_at = NOW - 3 * DAY
    session.commit()
    assert engine.run_periodic_triggers(session, now=NOW) == 3
    session.commit()
    _run(session)
    assert engine.run_periodic_triggers(session, now=NOW + dt.timedelta(hours=1)) == 0  # same occurrence
    session.commit()
    assert engine.run_periodic_triggers(session, now=NOW + DAY) == 3  # the next day's, after they exited
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(JourneyTriggerRun)) == 2
    keys = sorted({e.entry_key for e in _enrollments(session, journey.id)})
    assert keys == ["entry:1", "entry:2"]


def test_a_journey_split_plugin_picks_the_variant_but_never_moves_the_holdout(
    app, session, clock, make_journey, make_customers
):
    from plugin_modules import constant_plugin

    from souk_platform.journeys.engine.split import plugin_picker
    from souk_platform.plugins.models import PluginInvocation
    from souk_platform.plugins.services import create_activation, upload_plugin

    shop = ShopFactory()
    make_customers(shop.id, 30)
    plugin = upload_plugin(
        session, shop_id=shop.id, name="下一步最佳", point="journey.split", module=constant_plugin({"branch": "b"})
    )
    create_activation(session, shop_id=shop.id, plugin_id=plugin.id, config={})
    segment = create_segment(session, shop_id=shop.id, name="全部", description=None, condition=EVERYONE)
    session.commit()
    split = {"variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 1}], "holdout_percent": 20}
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node("trigger", {"kind": "segment_entered", "segment_id": segment.id}, default="split"),
                "split": node("split", split, a="end", b="end", holdout="end"),
                "end": node("exit"),
            }
        ),
    )
    engine.run_periodic_triggers(session, now=NOW)
    session.commit()
    while engine.advance_batch(session, now=NOW, pick_branch=plugin_picker):
        session.commit()
    enrollments = _enrollments(session, journey.id)
    from souk_platform.journeys.engine.split import weighted_branch

    held = {e.id for e in enrollments if weighted_branch(split, enrollment_id=e.id, node_id="split") == "holdout"}
    assert held and all(e.variant == ("holdout" if e.id in held else "b") for e in enrollments)
    outcome = session.scalar(
        sa.select(JourneyStep.outcome).where(JourneyStep.node_id == "split", JourneyStep.exit_taken == "b").limit(1)
    )
    assert outcome["chosen_by"] == f"plugin:{plugin.id}"
    calls = session.scalar(
        sa.select(sa.func.count()).select_from(PluginInvocation).where(PluginInvocation.shop_id == shop.id)
    )
    assert calls == len(enrollments) - len(held)  # logged like any point's call


def test_a_birthday_trigger_fires_once_per_shop_day_and_a_time_of_day_wait_reads_the_shop_timezone(
    session, make_journey, make_customers
):
    shop = ShopFactory()  # Asia/Shanghai: NOW (10:00 UTC) is 18:00 there
    soon, later = make_customers(shop.id, 2)
    soon.birthday, later.birthday = dt.date(1990, 3, 5), dt.date(1991, 3, 9)
    session.commit()
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node(
                    "trigger",
                    {"kind": "date", "attribute": "birthday", "days_before": 3, "time": "09:00"},
                    default="wait",
                ),
                "wait": node("wait", {"kind": "time_of_day", "time": "10:00"}, default="end"),
                "end": node("exit"),
            },
            reentry={"after_days": 300},
        ),
    )
    assert engine.run_periodic_triggers(session, now=NOW) == 1  # 2 March in Shanghai: birthdays on 5 March
    session.commit()
    assert engine.run_periodic_triggers(session, now=NOW + dt.timedelta(hours=1)) == 0  # the same shop day
    session.commit()
    _run(session)
    (enrollment,) = _enrollments(session, journey.id)
    assert enrollment.customer_id == soon.id
    # 10:00 the next morning in Shanghai is 02:00 UTC.
    assert enrollment.wake_at == dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)


def test_leaving_the_segment_takes_customers_out(session, make_journey, make_customers):
    shop = ShopFactory()
    stays, leaves = make_customers(shop.id, 2)
    tag = create_tag(session, shop_id=shop.id, name="活跃", kind="manual", now=NOW)
    session.commit()
    from souk_platform.tags.services import tag_customers, untag_customer

    tag_customers(session, shop_id=shop.id, tag_id=tag.id, customer_ids=[stays.id, leaves.id])
    tagged = create_segment(
        session,
        shop_id=shop.id,
        name="活跃顾客",
        description=None,
        condition={"op": "and", "conditions": [{"field": "tag", "cmp": "has", "value": tag.id}]},
    )
    session.commit()
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node("trigger", {"kind": "segment_entered", "segment_id": tagged.id}, default="wait"),
                "wait": node("wait", {"kind": "duration", "seconds": 86400}, default="end"),
                "end": node("exit"),
            },
            exit=[{"kind": "segment_left", "segment_id": tagged.id}],
        ),
    )
    engine.run_periodic_triggers(session, now=NOW)
    session.commit()
    _run(session)
    untag_customer(session, shop_id=shop.id, tag_id=tag.id, customer_id=leaves.id)
    session.commit()
    assert engine.apply_segment_exits(session, now=NOW) == 1
    session.commit()
    by_customer = {e.customer_id: e for e in _enrollments(session, journey.id)}
    assert by_customer[stays.id].status == "waiting"
    assert (by_customer[leaves.id].status, by_customer[leaves.id].exit_reason) == ("exited", "exit_rule")


def test_without_messaging_a_send_message_step_is_skipped_and_says_why(
    session, make_journey, make_customers, monkeypatch
):
    from souk_platform.journeys.engine import actions

    def no_messaging():
        raise ImportError("souk_platform.messaging")  # a platform without the messaging domain

    monkeypatch.setattr(actions, "messaging_services", no_messaging)
    shop = ShopFactory()
    (customer,) = make_customers(shop.id, 1)
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node("trigger", {"kind": "event", "event": "order.paid"}, default="send"),
                "send": node(
                    "action", {"action": "send_message", "channel_id": "mch_x", "template_id": "mtp_x"}, default="end"
                ),
                "end": node("exit"),
            }
        ),
    )
    _paid(session, shop.id, customer.id, 100)
    _run(session)
    (enrollment,) = _enrollments(session, journey.id)
    step = session.scalar(
        sa.select(JourneyStep).where(JourneyStep.enrollment_id == enrollment.id, JourneyStep.seq == 2)
    )
    assert (step.status, step.outcome["reason"]) == ("skipped", "journey-action-skipped")
    assert enrollment.status == "completed"


def test_a_send_message_step_sends_once_with_the_coupon_the_journey_gave(session, make_journey, make_customers):
    from souk_platform.messaging.models import Message
    from souk_platform.messaging.services import create_template, ensure_built_in_channels

    shop = ShopFactory()
    (customer,) = make_customers(shop.id, 1)
    coupon = _coupon(session, shop.id)
    inbox = next(c for c in ensure_built_in_channels(session, shop_id=shop.id) if c.kind == "inbox")
    template = create_template(
        session,
        shop_id=shop.id,
        fields={
            "name": "回购礼",
            "channel_kind": "inbox",
            "body": "{{ customer_name }}，{{ coupon_name }}：{{ coupon_code }}",
        },
    )
    session.commit()
    journey = make_journey(
        shop.id,
        graph(
            {
                "start": node("trigger", {"kind": "event", "event": "order.paid"}, default="gift"),
                "gift": node("action", {"action": "issue_coupon", "coupon_id": coupon.id}, default="tell"),
                "tell": node(
                    "action",
                    {"action": "send_message", "channel_id": inbox.id, "template_id": template.id},
                    default="end",
                ),
                "end": node("exit"),
            }
        ),
    )
    _paid(session, shop.id, customer.id, 100)
    _run(session)
    _run(session, NOW + DAY)
    (enrollment,) = _enrollments(session, journey.id)
    (message,) = session.scalars(sa.select(Message).where(Message.shop_id == shop.id)).all()
    assert (message.source, message.source_id, message.idempotency_key) == (
        "journey",
        enrollment.id,
        f"journey:{enrollment.id}:3",
    )
    assert message.body == f"{customer.name}，回购券：BACK"
    step = session.scalar(
        sa.select(JourneyStep).where(JourneyStep.enrollment_id == enrollment.id, JourneyStep.seq == 3)
    )
    assert step.status == "done" and step.outcome["message_id"] == message.id

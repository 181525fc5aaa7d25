"""A journey's settings are kept by its send_message steps (docs/architecture.md §5.12): the frequency cap per
customer and channel skips a send (reason ``frequency_cap``) and the customer moves on; a send due inside the
journey's quiet hours is scheduled for their end and sent once by the messaging job."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.core.clock import FrozenClock
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.journeys import engine
from souk_platform.journeys.models import JourneyEnrollment, JourneyStep
from souk_platform.messaging import mailer
from souk_platform.messaging.models import Message
from souk_platform.messaging.services import (
    create_template,
    ensure_built_in_channels,
    send_due_messages,
    send_message,
)
from souk_platform.webhooks.services import dispatch_outbox

NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
DAY = dt.timedelta(days=1)
SMTP = mailer.SmtpSettings(host="", port=0, default_from="shop@souk.localhost")


def node(type: str, params: dict[str, Any] | None = None, **next: str) -> dict[str, Any]:
    return {"type": type, "params": params or {}, "next": next, "position": {"x": 0, "y": 0}}


def _inbox_and_template(session: Any, shop_id: str) -> tuple[str, str]:
    inbox = next(c for c in ensure_built_in_channels(session, shop_id=shop_id) if c.kind == "inbox")
    template = create_template(
        session,
        shop_id=shop_id,
        fields={"name": "关怀", "channel_kind": "inbox", "body": "{{ customer_name }}，好久不见"},
    )
    session.commit()
    return inbox.id, template.id


def _send_journey(channel_id: str, template_id: str, **settings: Any) -> dict[str, Any]:
    return {
        "entry": "start",
        "nodes": {
            "start": node("trigger", {"kind": "event", "event": "order.paid"}, default="send"),
            "send": node(
                "action",
                {"action": "send_message", "channel_id": channel_id, "template_id": template_id},
                default="end",
            ),
            "end": node("exit"),
        },
        "goal": None,
        "exit": [],
        "settings": {"reentry": "after_exit", **settings},
    }


def _paid(session: Any, shop_id: str, customer_id: str, at: dt.datetime) -> None:
    emit(
        session,
        shop_id=shop_id,
        type="order.paid",
        subject_type="order",
        subject_id=f"ord_{at:%d%H}",
        payload={"id": f"ord_{at:%d%H}", "customer_id": customer_id, "status": "paid", "total": 100, "version": 2},
        created_at=at,
    )
    session.commit()


def _run(session: Any, now: dt.datetime) -> None:
    """What the jobs do: dispatch the outbox into the journeys' inbox, drain it, advance every due enrolment."""
    while dispatch_outbox(session, clock=FrozenClock(now))[0]:
        session.commit()
    while engine.drain(session, now=now):
        session.commit()
    while engine.advance_batch(session, now=now):
        session.commit()
    session.commit()


def _send_step(session: Any, enrollment_id: str) -> JourneyStep:
    step = session.scalar(
        sa.select(JourneyStep).where(JourneyStep.enrollment_id == enrollment_id, JourneyStep.node_id == "send")
    )
    assert step is not None
    return step


def _enrollments(session: Any, journey_id: str) -> list[JourneyEnrollment]:
    stmt = sa.select(JourneyEnrollment).where(JourneyEnrollment.journey_id == journey_id)
    return list(session.scalars(stmt.order_by(JourneyEnrollment.entered_at).execution_options(populate_existing=True)))


def test_at_the_frequency_cap_a_send_is_skipped_with_the_reason_and_the_customer_moves_on(
    session, make_journey, make_customers
):
    shop = ShopFactory()
    (customer,) = make_customers(shop.id, 1)
    inbox, template = _inbox_and_template(session, shop.id)
    # A message from elsewhere on the same channel is not this journey's: it does not count.
    send_message(
        session,
        shop_id=shop.id,
        customer_id=customer.id,
        channel_id=inbox,
        body="店铺公告",
        source="api",
        idempotency_key="api-1",
        now=NOW,
    )
    session.commit()
    journey = make_journey(shop.id, _send_journey(inbox, template, frequency_cap={"messages": 1, "days": 7}))

    _paid(session, shop.id, customer.id, NOW)
    _run(session, NOW)
    _paid(session, shop.id, customer.id, NOW + DAY)  # enters again the next day: one message in 7 days is the cap
    _run(session, NOW + DAY)
    _run(session, NOW + DAY)  # again: nothing changes
    _paid(session, shop.id, customer.id, NOW + 8 * DAY)  # the first message is more than 7 days old
    _run(session, NOW + 8 * DAY)

    first, capped, later = _enrollments(session, journey.id)
    assert [e.status for e in (first, capped, later)] == ["completed"] * 3
    assert _send_step(session, first.id).status == "done"
    step = _send_step(session, capped.id)
    assert (step.status, step.outcome["reason"], step.exit_taken) == ("skipped", "frequency_cap", "default")
    assert "cap is 1" in step.outcome["detail"]
    assert _send_step(session, later.id).status == "done"
    sources = session.execute(
        sa.select(Message.source, Message.source_id).where(Message.shop_id == shop.id).order_by(Message.created_at)
    ).all()
    assert sources == [("api", None), ("journey", first.id), ("journey", later.id)]


def test_suppressed_messages_do_not_count_towards_the_cap(session, make_journey, make_customers):
    from souk_platform.messaging.models import MessageChannel

    shop = ShopFactory()
    (customer,) = make_customers(shop.id, 1)
    inbox, template = _inbox_and_template(session, shop.id)
    session.get(MessageChannel, inbox).daily_cap = 1  # the channel's own cap, reached by a shop announcement
    send_message(
        session,
        shop_id=shop.id,
        customer_id=customer.id,
        channel_id=inbox,
        body="店铺公告",
        source="api",
        idempotency_key="api-1",
        now=NOW,
    )
    session.commit()
    journey = make_journey(shop.id, _send_journey(inbox, template, frequency_cap={"messages": 1, "days": 30}))
    _paid(session, shop.id, customer.id, NOW)
    _run(session, NOW)
    _paid(session, shop.id, customer.id, NOW + DAY)
    _run(session, NOW + DAY)

    first, second = _enrollments(session, journey.id)
    assert _send_step(session, first.id).outcome["status"] == "suppressed"
    assert _send_step(session, second.id).outcome["status"] == "delivered"


def test_a_send_inside_the_quiet_hours_is_scheduled_for_their_end_and_sent_once(session, make_journey, make_customers):
    shop = ShopFactory()
    night, day = make_customers(shop.id, 2)
    inbox, template = _inbox_and_template(session, shop.id)
    journey = make_journey(shop.id, _send_journey(inbox, template, quiet_hours={"start": "22:00", "end": "08:00"}))
    late = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai
    morning = dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC)  # 08:00 in Shanghai
    _paid(session, shop.id, night.id, late)
    _run(session, late)
    _paid(session, shop.id, day.id, NOW)  # 10:00: outside the quiet hours, sent at once
    _run(session, NOW)

    by_customer = {e.customer_id: e for e in _enrollments(session, journey.id)}
    assert {e.status for e in by_customer.values()} == {"completed"}  # the customer moved on
    night_message = session.scalar(sa.select(Message).where(Message.customer_id == night.id))
    assert (night_message.status, night_message.send_at) == ("scheduled", morning)
    assert _send_step(session, by_customer[night.id].id).outcome["status"] == "scheduled"
    day_message = session.scalar(sa.select(Message).where(Message.customer_id == day.id))
    assert day_message.status == "delivered"

    assert send_due_messages(session, now=morning - dt.timedelta(minutes=1), smtp=SMTP).handled == 0
    session.commit()
    assert send_due_messages(session, now=morning, smtp=SMTP).handled == 1
    session.commit()
    assert send_due_messages(session, now=morning + dt.timedelta(minutes=5), smtp=SMTP).handled == 0  # once
    session.commit()
    _run(session, morning + DAY)  # the engine does not send it again either
    session.refresh(night_message)
    assert (night_message.status, night_message.delivered_at) == ("delivered", morning)
    sent = session.scalars(
        sa.select(OutboxEvent.subject_id).where(OutboxEvent.shop_id == shop.id, OutboxEvent.type == "message.sent")
    ).all()
    assert sorted(sent) == sorted([night_message.id, day_message.id])


def test_the_journeys_quiet_hours_end_inside_the_shops_so_the_later_end_wins(session, make_journey, make_customers):
    shop = ShopFactory()
    shop.settings = {**(shop.settings or {}), "quiet_hours_start": "07:30", "quiet_hours_end": "09:00"}
    (customer,) = make_customers(shop.id, 1)
    inbox, template = _inbox_and_template(session, shop.id)
    make_journey(shop.id, _send_journey(inbox, template, quiet_hours={"start": "22:00", "end": "08:00"}))
    late = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai
    _paid(session, shop.id, customer.id, late)
    _run(session, late)
    message = session.scalar(sa.select(Message).where(Message.customer_id == customer.id))
    assert (message.status, message.send_at) == ("scheduled", dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC))

"""Service orders through their whole lives with a moving clock: the buyer acts through the API, the
provider and admins through the services their pages call, the timers through the periodic job.

After every flow the ledger's invariant holds and the order's escrow account is empty.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from marketplace.service_market.builders import (
    FUNDS,
    PROJECT_MILESTONES,
    SMALL_PRICE,
    assert_ledger_sound,
    make_offer,
)
from marketplace.service_market.builders import small_package as small_spec

from souk_marketplace.service_market import services
from souk_marketplace.service_market.errors import (
    ExtensionConflict,
    InvalidServiceOrder,
    NotYourMove,
    OfferConflict,
    ServiceOrderNotFound,
)
from souk_marketplace.service_market.models import ServiceOrder, ServiceOrderEvent
from souk_marketplace.service_market.services import Party
from souk_marketplace.service_market.tasks import run_service_order_timers
from souk_platform.events.models import OutboxEvent
from souk_platform.ledger.services import PLATFORM, balance_of


def place(
    client: Any, headers: dict[str, str], package_id: str, requirements: str | None = "Run our Tmall store"
) -> str:
    body: dict[str, Any] = {"package_id": package_id}
    if requirements is not None:
        body["requirements"] = requirements
    r = client.post("/api/v1/service-orders", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["id"])


def buyer_post(client: Any, headers: dict[str, str], order_id: str, action: str, body: Any = None) -> Any:
    kwargs = {} if body is None else {"json": body}
    return client.post(f"/api/v1/service-orders/{order_id}/{action}", headers=headers, **kwargs)


def order_of(client: Any, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/service-orders/{order_id}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return dict(r.get_json())


def provider(offer: Any) -> Party:
    return Party.provider(offer.provider_user_id)


def deliver(session: Any, offer: Any, order_id: str, clock: Any, note: str = "Here is the work.") -> None:
    services.deliver(session, order_id=order_id, party=provider(offer), note=note, now=clock.now())
    session.commit()


def money(session: Any, shop: Any, offer: Any, order_id: str) -> dict[str, int]:
    return {
        "shop": balance_of(session, shop_id=shop.id, kind="shop.balance", owner_id=shop.id, unit="CNY"),
        "escrow": balance_of(session, shop_id=shop.id, kind="escrow.service_order", owner_id=order_id, unit="CNY"),
        "earnings": balance_of(
            session, shop_id=PLATFORM, kind="developer.earnings", owner_id=offer.provider_user_id, unit="CNY"
        ),
        "fees": balance_of(session, shop_id=PLATFORM, kind="platform.fees", owner_id=PLATFORM, unit="CNY"),
    }


def states(session: Any, order_id: str) -> list[str]:
    return list(
        session.scalars(
            sa.select(ServiceOrderEvent.to_state)
            .where(ServiceOrderEvent.order_id == order_id, ServiceOrderEvent.kind == "state")
            .order_by(ServiceOrderEvent.id)
        )
    )


def finished(session: Any, shop: Any, offer: Any, order_id: str) -> dict[str, int]:
    """The flow is over: the escrow account is empty and the ledger is sound."""
    after = money(session, shop, offer, order_id)
    assert after["escrow"] == 0
    assert_ledger_sound(session)
    return after


def test_happy_path_accept_clear_settle_pays_the_provider_less_the_fee(client, session, shop, headers, offer, clock):
    before = money(session, shop, offer, "none")
    order_id = place(client, headers, offer.small_package)
    placed = order_of(client, headers, order_id)
    assert placed["state"] == "in_progress" and placed["held"] == SMALL_PRICE
    assert placed["due_at"].startswith("2026-03-05T10:00")  # 3 delivery days
    assert money(session, shop, offer, order_id)["shop"] == FUNDS - SMALL_PRICE
    assert money(session, shop, offer, order_id)["escrow"] == SMALL_PRICE

    clock.advance(days=2)
    deliver(session, offer, order_id, clock)
    assert order_of(client, headers, order_id)["review_until"].startswith("2026-03-07T10:00")  # 3 days to review
    r = buyer_post(client, headers, order_id, "accept")
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["state"], r.get_json()["clearing_until"][:16]) == ("clearing", "2026-03-18T10:00")

    clock.advance(days=13, hours=23)
    run_service_order_timers()
    assert order_of(client, headers, order_id)["state"] == "clearing"  # 14 days are not over
    clock.advance(hours=1)
    assert run_service_order_timers()["settle"] == 1
    done = order_of(client, headers, order_id)
    assert (done["state"], done["held"], done["released_total"], done["fee_total"]) == ("settled", 0, 30_000, 6_000)

    after = finished(session, shop, offer, order_id)
    assert after["shop"] == FUNDS - SMALL_PRICE
    assert after["earnings"] - before["earnings"] == 24_000
    assert after["fees"] - before["fees"] == 6_000
    assert states(session, order_id) == [
        "placed", "requirements_pending", "in_progress", "delivered", "accepted", "clearing", "settled",
    ]  # fmt: skip
    types = session.scalars(sa.select(OutboxEvent.type).where(OutboxEvent.subject_id == order_id)).all()
    assert {"service_order.placed", "service_order.delivered", "service_order.settled"} <= set(types)
    settled = session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.subject_id == order_id, OutboxEvent.type == "service_order.settled")
    ).one()
    assert settled.shop_id == shop.id and settled.payload["version"] == done["version"]


def test_the_fee_rounds_half_up_and_the_provider_gets_the_rest(app, client, session, shop, headers, clock):
    offer = make_offer(session, clock.now(), small=small_spec(price=10_002))
    app.config["SOUK_MARKETPLACE_FEE_BPS"] = 2500
    try:
        order_id = place(client, headers, offer.small_package)
    finally:
        app.config.pop("SOUK_MARKETPLACE_FEE_BPS")
    deliver(session, offer, order_id, clock)
    assert buyer_post(client, headers, order_id, "accept").status_code == 200
    clock.advance(days=14)
    run_service_order_timers()
    done = order_of(client, headers, order_id)
    assert (done["state"], done["fee_total"]) == ("settled", 2_501)  # 10,002 × 25 % = 2,500.5 → 2,501
    assert money(session, shop, offer, order_id)["earnings"] == 7_501
    finished(session, shop, offer, order_id)


def test_silence_after_delivery_auto_completes_then_settles(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)
    deliver(session, offer, order_id, clock)
    clock.advance(days=2, hours=23)
    run_service_order_timers()
    assert order_of(client, headers, order_id)["state"] == "delivered"
    clock.advance(hours=1)
    assert run_service_order_timers()["auto_complete"] == 1
    assert order_of(client, headers, order_id)["state"] == "clearing"
    clock.advance(days=14)
    run_service_order_timers()
    assert order_of(client, headers, order_id)["state"] == "settled"
    assert states(session, order_id)[-4:] == ["delivered", "auto_completed", "clearing", "settled"]
    assert finished(session, shop, offer, order_id)["earnings"] == 24_000


def test_overdue_by_more_than_a_day_the_buyer_cancels_for_a_full_refund(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)  # due in 3 days
    clock.advance(days=4)  # overdue by exactly 24 h: not yet
    r = buyer_post(client, headers, order_id, "cancel", {"reason": "Nothing delivered"})
    assert r.status_code == 409 and r.get_json()["type"].endswith("/service-order-not-overdue"), r.get_json()
    assert "2026-03-06T10:00:00+00:00" in r.get_json()["detail"]
    clock.advance(seconds=1)
    r = buyer_post(client, headers, order_id, "cancel", {"reason": "Nothing delivered"})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["state"], r.get_json()["refunded_total"]) == ("cancelled", SMALL_PRICE)
    after = finished(session, shop, offer, order_id)
    assert after["shop"] == FUNDS and after["earnings"] == 0
    # A finished order changes no more.
    assert buyer_post(client, headers, order_id, "cancel", {}).status_code == 409


def test_an_extension_request_expires_after_four_days_unanswered(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)
    services.request_extension(
        session, order_id=order_id, party=provider(offer), days=2, reason="Waiting for photos", now=clock.now()
    )
    session.commit()
    pending = order_of(client, headers, order_id)["pending_extension"]
    assert (pending["days"], pending["expires_at"][:16]) == (2, "2026-03-06T10:00")
    with pytest.raises(ExtensionConflict):  # one request at a time
        services.request_extension(
            session, order_id=order_id, party=provider(offer), days=1, reason="x", now=clock.now()
        )
    session.rollback()

    clock.advance(days=4)
    assert run_service_order_timers()["expire_extensions"] == 1
    detail = order_of(client, headers, order_id)
    assert detail["pending_extension"] is None and detail["due_at"].startswith("2026-03-05T10:00")  # unchanged
    r = buyer_post(client, headers, order_id, "extension-answer", {"accept": True})
    assert r.status_code == 409 and r.get_json()["type"].endswith("/extension-conflict")
    kinds = session.scalars(sa.select(ServiceOrderEvent.kind).where(ServiceOrderEvent.order_id == order_id)).all()
    assert "extension_requested" in kinds and "extension_expired" in kinds


def test_an_accepted_extension_moves_the_due_date_and_the_overdue_line(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)
    services.request_extension(
        session, order_id=order_id, party=provider(offer), days=2, reason="More SKUs", now=clock.now()
    )
    session.commit()
    r = buyer_post(client, headers, order_id, "extension-answer", {"accept": True})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["due_at"].startswith("2026-03-07T10:00")
    clock.advance(days=5, hours=12)  # overdue by the old date, not by the new one
    assert buyer_post(client, headers, order_id, "cancel", {}).status_code == 409


def test_revisions_are_limited_by_the_package(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)  # 1 revision included
    deliver(session, offer, order_id, clock)
    clock.advance(days=1)
    r = buyer_post(client, headers, order_id, "revision-requests", {"note": "Make the logo green"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "in_progress"
    assert r.get_json()["due_at"].startswith("2026-03-06T10:00")  # a fresh 3 days
    assert r.get_json()["milestones"][0]["revisions_used"] == 1
    deliver(session, offer, order_id, clock, note="Green now")
    r = buyer_post(client, headers, order_id, "revision-requests", {"note": "And blue"})
    assert r.status_code == 409 and r.get_json()["type"].endswith("/revision-limit-reached"), r.get_json()
    assert order_of(client, headers, order_id)["state"] == "delivered"
    assert "revision_requested" in states(session, order_id)


def test_a_dispute_the_provider_leaves_unanswered_refunds_the_buyer(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)
    deliver(session, offer, order_id, clock)
    r = buyer_post(client, headers, order_id, "disputes", {"reason": "Not what we asked for"})
    assert r.status_code == 200 and r.get_json()["answer_until"].startswith("2026-03-07T10:00"), r.get_json()
    clock.advance(days=10)  # the review window passing changes nothing during a dispute
    assert run_service_order_timers()["refund_unanswered_disputes"] == 1
    done = order_of(client, headers, order_id)
    assert (done["state"], done["refunded_total"], done["released_total"]) == ("refunded", SMALL_PRICE, 0)
    assert finished(session, shop, offer, order_id)["shop"] == FUNDS


def test_an_agreed_split_in_mediation_settles_exactly(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)
    deliver(session, offer, order_id, clock)
    assert buyer_post(client, headers, order_id, "accept").status_code == 200
    clock.advance(days=3)
    r = buyer_post(client, headers, order_id, "disputes", {"reason": "Sales dropped after the changes"})
    assert (r.status_code, r.get_json()["dispute_from"]) == (200, "clearing")
    services.answer_dispute(
        session, order_id=order_id, party=provider(offer), answer="We followed the brief", now=clock.now()
    )
    session.commit()
    assert order_of(client, headers, order_id)["mediation_until"].startswith("2026-04-04T10:00")

    r = buyer_post(client, headers, order_id, "offers", {"refund": 10_001, "note": "Give back a third"})
    assert r.status_code == 200 and r.get_json()["offer"] == {"by": "buyer", "refund": 10_001, "release": 19_999}
    with pytest.raises(OfferConflict):  # the offer it accepts must be the one standing
        services.accept_offer(session, order_id=order_id, party=provider(offer), refund=9_000, now=clock.now())
    session.rollback()
    services.accept_offer(session, order_id=order_id, party=provider(offer), refund=10_001, now=clock.now())
    session.commit()
    done = order_of(client, headers, order_id)
    assert (done["state"], done["refunded_total"], done["released_total"], done["fee_total"]) == (
        "settled", 10_001, 19_999, 4_000,
    )  # fmt: skip
    after = finished(session, shop, offer, order_id)
    assert (after["shop"], after["earnings"]) == (FUNDS - 19_999, 15_999)


def _to_arbitration(client: Any, session: Any, headers: dict[str, str], offer: Any, clock: Any) -> str:
    order_id = place(client, headers, offer.small_package)
    deliver(session, offer, order_id, clock)
    assert buyer_post(client, headers, order_id, "disputes", {"reason": "Late and wrong"}).status_code == 200
    services.answer_dispute(session, order_id=order_id, party=provider(offer), answer="It is right", now=clock.now())
    session.commit()
    clock.advance(days=30)
    assert run_service_order_timers()["escalate_stale_mediations"] == 1
    assert order_of(client, headers, order_id)["state"] == "in_arbitration"
    return order_id


@pytest.mark.parametrize(
    ("decision", "refund", "state", "refunded", "earned"),
    [
        ("full_refund", None, "refunded", SMALL_PRICE, 0),
        ("partial_refund", 12_345, "settled", 12_345, 14_124),  # 17,655 released, fee 3,531
        ("no_refund", None, "settled", 0, 24_000),
    ],
)
def test_admin_arbitration_splits_escrow_to_the_fen(
    client, session, shop, headers, offer, clock, decision, refund, state, refunded, earned
):
    order_id = _to_arbitration(client, session, headers, offer, clock)
    admin = Party.admin("usr_admin")
    services.arbitrate(
        session, order_id=order_id, party=admin, decision=decision, refund=refund, note="Ruled", now=clock.now()
    )
    session.commit()
    done = order_of(client, headers, order_id)
    assert (done["state"], done["refunded_total"]) == (state, refunded)
    assert done["refunded_total"] + done["released_total"] == SMALL_PRICE
    after = finished(session, shop, offer, order_id)
    assert (after["shop"], after["earnings"]) == (FUNDS - SMALL_PRICE + refunded, earned)


def test_arbitration_refuses_a_partial_refund_outside_what_is_held(client, session, shop, headers, offer, clock):
    order_id = _to_arbitration(client, session, headers, offer, clock)
    for amount in (0, SMALL_PRICE, SMALL_PRICE + 1, None):
        with pytest.raises(InvalidServiceOrder):
            services.arbitrate(
                session,
                order_id=order_id,
                party=Party.admin("usr_admin"),
                decision="partial_refund",
                refund=amount,
                note="x",
                now=clock.now(),
            )
        session.rollback()
    assert order_of(client, headers, order_id)["state"] == "in_arbitration"


def test_either_party_may_escalate_mediation_early(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)
    deliver(session, offer, order_id, clock)
    buyer_post(client, headers, order_id, "disputes", {"reason": "Wrong colours"})
    assert buyer_post(client, headers, order_id, "escalation").status_code == 409  # not in mediation yet
    services.answer_dispute(session, order_id=order_id, party=provider(offer), answer="Per brief", now=clock.now())
    session.commit()
    r = buyer_post(client, headers, order_id, "escalation")
    assert (r.status_code, r.get_json()["state"]) == (200, "in_arbitration")


def test_project_milestones_are_paid_one_by_one(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.project_package)
    detail = order_of(client, headers, order_id)
    assert [m["amount"] for m in detail["milestones"]] == [m[1] for m in PROJECT_MILESTONES]
    assert detail["due_at"].startswith("2026-03-07T10:00")  # milestone 1 takes 5 days

    deliver(session, offer, order_id, clock)
    assert order_of(client, headers, order_id)["review_until"].startswith("2026-03-16T10:00")  # 14 days for projects
    r = buyer_post(client, headers, order_id, "accept")
    assert r.get_json()["state"] == "in_progress"
    assert [m["state"] for m in r.get_json()["milestones"]] == ["released", "in_progress", "pending"]
    assert money(session, shop, offer, order_id)["earnings"] == 32_000  # 40,000 less 20 %

    clock.advance(days=3)
    deliver(session, offer, order_id, clock)
    clock.advance(days=14)
    assert run_service_order_timers()["auto_complete"] == 1  # milestone 2 accepted by silence
    assert money(session, shop, offer, order_id)["earnings"] == 32_000 + 40_001  # 50,001 less 10,000

    deliver(session, offer, order_id, clock)
    buyer_post(client, headers, order_id, "accept")
    assert order_of(client, headers, order_id)["state"] == "clearing"
    assert money(session, shop, offer, order_id)["escrow"] == 9_999  # the last milestone clears first
    clock.advance(days=14)
    run_service_order_timers()
    done = order_of(client, headers, order_id)
    assert done["state"] == "settled" and [m["state"] for m in done["milestones"]] == ["released"] * 3
    after = finished(session, shop, offer, order_id)
    assert after["earnings"] == 80_000 and done["fee_total"] == 20_000
    released = session.scalars(
        sa.select(ServiceOrderEvent).where(
            ServiceOrderEvent.order_id == order_id, ServiceOrderEvent.kind == "milestone_released"
        )
    ).all()
    assert [(e.details["milestone"], e.details["amount"]) for e in released] == [(1, 40_000), (2, 50_001)]


def test_a_dispute_in_a_project_covers_only_what_is_still_held(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.project_package)
    deliver(session, offer, order_id, clock)
    buyer_post(client, headers, order_id, "accept")  # milestone 1 paid: 40,000
    deliver(session, offer, order_id, clock)
    buyer_post(client, headers, order_id, "disputes", {"reason": "Milestone 2 is broken"})
    clock.advance(days=5)
    run_service_order_timers()  # no answer: everything still held goes back
    done = order_of(client, headers, order_id)
    assert (done["state"], done["refunded_total"], done["released_total"]) == ("refunded", 60_000, 40_000)
    assert [m["state"] for m in done["milestones"]] == ["released", "resolved", "resolved"]
    assert finished(session, shop, offer, order_id)["shop"] == FUNDS - 40_000


def test_the_buyer_or_the_provider_may_call_it_off_before_work_starts(client, session, shop, headers, offer, clock):
    first = place(client, headers, offer.small_package, requirements=None)
    assert order_of(client, headers, first)["state"] == "requirements_pending"
    assert buyer_post(client, headers, first, "cancel", {}).get_json()["state"] == "cancelled"
    second = place(client, headers, offer.small_package, requirements=None)
    services.cancel_order(session, order_id=second, party=provider(offer), reason="Fully booked", now=clock.now())
    session.commit()
    assert order_of(client, headers, second)["state"] == "cancelled"
    assert finished(session, shop, offer, second)["shop"] == FUNDS


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("accept", None),
        ("revision-requests", {"note": "x"}),
        ("disputes", {"reason": "x"}),
        ("offers", {"refund": 0}),
        ("offer-acceptance", {"refund": 0}),
        ("escalation", None),
        ("extension-answer", {"accept": True}),
        ("rating", {"stars": 5}),
    ],
)
def test_moves_the_state_does_not_allow_are_409_and_change_nothing(client, session, shop, headers, offer, action, body):
    order_id = place(client, headers, offer.small_package)  # in progress
    before = order_of(client, headers, order_id)
    r = buyer_post(client, headers, order_id, action, body)
    assert r.status_code == 409, (action, r.get_json())
    assert r.headers["Content-Type"] == "application/problem+json"
    after = order_of(client, headers, order_id)
    assert (after["state"], after["version"], after["held"]) == ("in_progress", before["version"], SMALL_PRICE)


def test_a_party_may_not_make_the_other_partys_move(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)
    deliver(session, offer, order_id, clock)
    with pytest.raises(NotYourMove):
        services.accept_delivery(session, order_id=order_id, party=provider(offer), now=clock.now())
    session.rollback()
    with pytest.raises(ServiceOrderNotFound):  # a stranger does not even see the order
        services.deliver(session, order_id=order_id, party=Party.provider("usr_someone"), note="x", now=clock.now())
    session.rollback()
    assert order_of(client, headers, order_id)["state"] == "delivered"


def test_requirements_are_needed_and_only_once(client, session, shop, headers, offer):
    order_id = place(client, headers, offer.small_package, requirements=None)
    r = buyer_post(client, headers, order_id, "requirements", {"requirements": ""})
    assert r.status_code == 422 and "requirements" in r.get_json()["errors"]
    assert buyer_post(client, headers, order_id, "requirements", {"requirements": "Our brand book"}).status_code == 200
    again = buyer_post(client, headers, order_id, "requirements", {"requirements": "Again"})
    assert again.status_code == 409 and again.get_json()["type"].endswith("/invalid-state-transition")


def test_the_timer_job_is_idempotent(client, session, shop, headers, offer, clock):
    order_id = place(client, headers, offer.small_package)
    deliver(session, offer, order_id, clock)
    clock.advance(days=3)
    assert run_service_order_timers()["auto_complete"] == 1
    assert run_service_order_timers() == dict.fromkeys(
        ("expire_extensions", "auto_complete", "settle", "refund_unanswered_disputes", "escalate_stale_mediations"), 0
    )
    order = session.get(ServiceOrder, order_id)
    assert order is not None and order.state == "clearing"
    assert order.clearing_until == clock.now() + dt.timedelta(days=14)

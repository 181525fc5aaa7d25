"""Parties acting on one order at the same moment, on PostgreSQL with real commits (on a database of
this module's own, so nothing committed here reaches other tests' timers): the order row lock applies
them one after the other, so each order ends in one valid state and money moves once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from marketplace.service_market.builders import FUNDS, SMALL_PRICE, fund, make_offer

from factories import ShopFactory, token_for
from souk_marketplace.service_market import services
from souk_marketplace.service_market.models import ServiceOrder, ServiceOrderEvent
from souk_marketplace.service_market.services import Party
from souk_platform.core.clock import FrozenClock
from souk_platform.db import db
from souk_platform.ledger.models import LedgerTransfer
from souk_platform.ledger.services import balance_of, check_invariants

ROUNDS = 4


@pytest.fixture
def clock(isolated_app: Any) -> Iterator[FrozenClock]:
    frozen = FrozenClock(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC))
    original = isolated_app.extensions["souk.clock"]
    isolated_app.extensions["souk.clock"] = frozen
    yield frozen
    isolated_app.extensions["souk.clock"] = original


def _delivered_orders(app: Any, clock: Any, *, deliver: bool = True) -> tuple[dict[str, str], list[str], str]:
    """ROUNDS small orders of one funded shop (delivered, unless told), committed for real."""
    with app.app_context():
        shop = ShopFactory()
        fund(db.session, shop, FUNDS)
        offer = make_offer(db.session, clock.now())
        headers = token_for(shop)
        client = app.test_client()
        ids = []
        for _ in range(ROUNDS):
            r = client.post(
                "/api/v1/service-orders", json={"package_id": offer.small_package, "requirements": "x"}, headers=headers
            )
            assert r.status_code == 201, r.get_json()
            ids.append(r.get_json()["id"])
        for order_id in ids if deliver else ():
            _deliver(order_id, offer.provider_user_id, clock)
        shop_id = shop.id
        db.session.remove()
    return headers, ids, shop_id


def _deliver(order_id: str, provider_user_id: str, clock: Any) -> None:
    services.deliver(
        db.session, order_id=order_id, party=Party.provider(provider_user_id), note="done", now=clock.now()
    )
    db.session.commit()


def _at_once(app: Any, calls: list[Callable[[], int]]) -> list[int]:
    """Run ``calls`` in threads released together; return their HTTP statuses (or 0 for a job)."""
    start = threading.Barrier(len(calls))
    results: list[int] = []
    crashed: list[str] = []

    def run(call: Callable[[], int]) -> None:
        with app.app_context():
            try:
                start.wait()
                results.append(call())
            except Exception as exc:  # surfaced below: a crashed thread must fail the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    return sorted(results)


def _post(app: Any, headers: dict[str, str], path: str, body: Any = None) -> Callable[[], int]:
    return lambda: app.test_client().post(path, headers=headers, **({} if body is None else {"json": body})).status_code


def _check(app: Any, order_id: str, shop_id: str) -> tuple[ServiceOrder, list[str]]:
    with app.app_context():
        order = db.session.get(ServiceOrder, order_id)
        assert order is not None
        held = balance_of(db.session, shop_id=shop_id, kind="escrow.service_order", owner_id=order_id, unit="CNY")
        assert held == order.held
        assert check_invariants(db.session) == []
        db.session.expunge(order)
        steps = list(
            db.session.scalars(
                sa.select(ServiceOrderEvent.to_state)
                .where(ServiceOrderEvent.order_id == order_id, ServiceOrderEvent.kind == "state")
                .order_by(ServiceOrderEvent.id)
            )
        )
        db.session.remove()
    return order, steps


@pytest.mark.concurrency
def test_accept_and_dispute_at_once_end_disputed_either_way(isolated_app, clock):
    app = isolated_app
    headers, ids, shop_id = _delivered_orders(app, clock)
    for order_id in ids:
        base = f"/api/v1/service-orders/{order_id}"
        statuses = _at_once(
            app, [_post(app, headers, base + "/accept"), _post(app, headers, base + "/disputes", {"reason": "no"})]
        )
        order, steps = _check(app, order_id, shop_id)
        assert order.state == "disputed" and order.held == SMALL_PRICE
        if statuses == [200, 200]:  # accepted first, then disputed while clearing
            assert (order.dispute_from, steps[-4:]) == ("clearing", ["delivered", "accepted", "clearing", "disputed"])
        else:  # disputed first: accepting a disputed delivery is refused
            assert statuses == [200, 409]
            assert (order.dispute_from, steps[-2:]) == ("delivered", ["delivered", "disputed"])


@pytest.mark.concurrency
def test_accept_and_revision_at_once_exactly_one_wins(isolated_app, clock):
    app = isolated_app
    headers, ids, shop_id = _delivered_orders(app, clock)
    for order_id in ids:
        base = f"/api/v1/service-orders/{order_id}"
        statuses = _at_once(
            app,
            [
                _post(app, headers, base + "/accept"),
                _post(app, headers, base + "/revision-requests", {"note": "again"}),
            ],
        )
        assert statuses == [200, 409]
        order, steps = _check(app, order_id, shop_id)
        assert order.state in ("clearing", "in_progress")
        assert steps.count("accepted") + steps.count("revision_requested") == 1


@pytest.mark.concurrency
def test_the_timer_and_the_buyer_accepting_at_the_deadline_accept_once(isolated_app, clock):
    app = isolated_app
    headers, ids, shop_id = _delivered_orders(app, clock, deliver=False)
    for order_id in ids:
        with app.app_context():
            _deliver(order_id, db.session.get(ServiceOrder, order_id).provider_user_id, clock)
            db.session.remove()
        clock.advance(days=3)  # the review window ends now: the job and the buyer race
        job = lambda: services.run_timers(db.session, now=clock.now())["auto_complete"]  # noqa: E731
        statuses = _at_once(app, [_post(app, headers, f"/api/v1/service-orders/{order_id}/accept"), job])
        assert statuses in ([0, 200], [1, 409])  # the job moved no order and the buyer won, or the reverse
        order, steps = _check(app, order_id, shop_id)
        assert order.state == "clearing" and steps.count("clearing") == 1
    with app.app_context():
        escrowed = db.session.scalar(
            sa.select(sa.func.count()).select_from(LedgerTransfer).where(LedgerTransfer.reference.in_(ids))
        )
        assert escrowed == ROUNDS  # only the escrow transfers: nothing released twice (nor yet)
        assert balance_of(db.session, shop_id=shop_id, kind="shop.balance", owner_id=shop_id, unit="CNY") == (
            FUNDS - ROUNDS * SMALL_PRICE
        )
        db.session.remove()

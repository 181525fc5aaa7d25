"""The delivery run: many deliveries claimed in a batch, sent at once over kept-alive connections, logged together."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from rq import Queue

from factories import ShopFactory, token_for
from souk_platform.events.models import OutboxEvent
from souk_platform.events.services import emit
from souk_platform.webhooks import services
from souk_platform.webhooks.models import WebhookAttempt, WebhookDelivery
from souk_platform.webhooks.runtime import runtime_for


@pytest.fixture(autouse=True)
def _outbox_of_this_test_only(session) -> None:
    """Set aside what tests that commit for real (races on PostgreSQL) left in this process's database.

    Their undispatched events come first in the outbox and their deliveries may be due: a run here would
    claim those instead of the test's own. Inside the test's transaction, so it is all rolled back after.
    """
    session.execute(sa.delete(WebhookAttempt))
    session.execute(sa.delete(WebhookDelivery))
    session.execute(
        sa.update(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)).values(dispatched_at=sa.func.now())
    )
    session.commit()  # a savepoint of the test's transaction


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a delivery run opens up to 32 connections at once; the default backlog is 5


class KeepAliveReceiver:
    """An HTTP/1.1 receiver that notes which client connection (address, port) each request came on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, tuple[str, int]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.requests.append((self.headers["webhook-id"], self.client_address))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def keepalive_receiver() -> Iterator[KeepAliveReceiver]:
    receiver = KeepAliveReceiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _emit_orders(session, shop, count: int) -> None:
    for n in range(count):
        emit(
            session,
            shop_id=shop.id,
            type="order.paid",
            subject_type="order",
            subject_id=f"ord_{n}",
            payload={"id": f"ord_{n}", "version": 1},
        )
    session.commit()


def test_a_burst_of_events_goes_out_in_one_run_over_a_few_kept_alive_connections(
    client, session, redis, keepalive_receiver, loopback, now_clock, drain
):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks"])
    created = client.post(
        "/api/v1/webhook-subscriptions", json={"url": keepalive_receiver.url, "topics": ["order.*"]}, headers=headers
    )
    assert created.status_code == 201
    _emit_orders(session, shop, 120)
    assert Queue("souk", connection=redis).count == 1  # 120 events, one commit, one run asked for

    drain()

    received = keepalive_receiver.requests
    ids = session.scalars(sa.select(WebhookDelivery.id)).all()
    assert sorted(webhook_id for webhook_id, _ in received) == sorted(ids)  # each exactly once
    assert len({connection for _, connection in received}) <= 32 < len(received)  # connections were reused
    assert set(session.scalars(sa.select(WebhookDelivery.status))) == {"succeeded"}
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookAttempt)) == 120
    log = client.get("/api/v1/webhook-deliveries?status=succeeded&limit=250", headers=headers).json["items"]
    assert len(log) == 120 and {d["attempts"] for d in log} == {1}


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(app, session, now_clock):
    shop = ShopFactory()
    services.create_subscription(
        session,
        shop_id=shop.id,
        url="https://hooks.example.com/in",
        topics=["order.*"],
        installation_id=None,
        granted_scopes=None,
        box=runtime_for(app).box,
        clock=now_clock,
    )
    session.commit()
    _emit_orders(session, shop, 3)
    services.dispatch_outbox(session, clock=now_clock)
    now = now_clock.now()

    first = services.claim_due_deliveries(session, now=now, limit=2)
    second = services.claim_due_deliveries(session, now=now, limit=2)
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    assert services.claim_due_deliveries(session, now=now, limit=2) == []
    later = now + services.CLAIM_LEASE
    assert sorted(services.claim_due_deliveries(session, now=later, limit=10)) == sorted(first + second)


def test_an_attempt_that_outlived_its_claim_does_not_undo_the_one_that_succeeded(app, session, now_clock):
    shop = ShopFactory()
    services.create_subscription(
        session,
        shop_id=shop.id,
        url="https://hooks.example.com/in",
        topics=["order.*"],
        installation_id=None,
        granted_scopes=None,
        box=runtime_for(app).box,
        clock=now_clock,
    )
    session.commit()
    _emit_orders(session, shop, 1)
    services.dispatch_outbox(session, clock=now_clock)
    box, rng = runtime_for(app).box, runtime_for(app).rng

    def attempt() -> services.PreparedRequest:
        (request,) = services.claim_requests(session, now=now_clock.now(), limit=1, box=box)
        return request

    slow = attempt()  # a run sends it; the receiver is slow and the claim's lease runs out
    now_clock.advance(seconds=services.CLAIM_LEASE.total_seconds())
    fast = attempt()  # another run claims it again and the receiver answers at once
    services.record_attempts(session, [(fast, services.AttemptResult(200, "ok", 12))], clock=now_clock, rng=rng)
    late = services.AttemptResult(None, None, 15_000, error="Timed out waiting for the response.", timed_out=True)
    services.record_attempts(session, [(slow, late)], clock=now_clock, rng=rng)

    delivery = session.scalars(sa.select(WebhookDelivery)).one()
    session.refresh(delivery)
    assert (delivery.status, delivery.next_attempt_at, delivery.last_error) == ("succeeded", None, None)
    assert delivery.attempts == 2  # both attempts are in the log
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookAttempt)) == 2


def test_a_flooded_endpoint_holds_at_most_its_share_of_the_senders(app, session, now_clock):
    """Twenty deliveries due for a busy shop's endpoint and one for another shop's: both get claimed."""

    def endpoint(shop, url: str) -> str:
        subscription, _ = services.create_subscription(
            session,
            shop_id=shop.id,
            url=url,
            topics=["order.*"],
            installation_id=None,
            granted_scopes=None,
            box=runtime_for(app).box,
            clock=now_clock,
        )
        return subscription.id

    busy_shop, quiet_shop = ShopFactory(), ShopFactory()
    flooded = endpoint(busy_shop, "https://busy.example.com/in")
    quiet = endpoint(quiet_shop, "https://quiet.example.com/in")
    session.commit()
    _emit_orders(session, busy_shop, 20)
    now_clock.advance(seconds=1)  # the quiet shop's event is the newest: oldest-first alone would skip it
    _emit_orders(session, quiet_shop, 1)
    services.dispatch_outbox(session, clock=now_clock)
    session.commit()
    now = now_clock.now()

    def owners(ids: list[str]) -> Counter[str]:
        rows = session.scalars(sa.select(WebhookDelivery.subscription_id).where(WebhookDelivery.id.in_(ids)))
        return Counter(rows)

    claimed = services.claim_due_deliveries(session, now=now, limit=32, per_endpoint=8)
    assert owners(claimed) == {flooded: 8, quiet: 1}
    # With its 8 still out, the flooded endpoint gets no more, however many senders are free.
    assert services.claim_due_deliveries(session, now=now, limit=32, per_endpoint=8, busy={flooded: 8}) == []
    again = services.claim_due_deliveries(session, now=now, limit=32, per_endpoint=8, busy={flooded: 5})
    assert owners(again) == {flooded: 3}
    # Without a cap (resend, recover), oldest first as before.
    assert len(services.claim_due_deliveries(session, now=now, limit=32)) == 20 - 8 - 3


def test_a_failing_endpoint_gets_one_claim_per_lane_and_a_healthy_one_a_window(app, session, now_clock):
    shop = ShopFactory()
    subscription, _ = services.create_subscription(
        session,
        shop_id=shop.id,
        url="https://hooks.example.com/in",
        topics=["order.*"],
        installation_id=None,
        granted_scopes=None,
        box=runtime_for(app).box,
        clock=now_clock,
    )
    session.commit()
    _emit_orders(session, shop, 30)
    services.dispatch_outbox(session, clock=now_clock)
    now = now_clock.now()

    def claim(at=now, **caps: Any) -> list[str]:
        caps = {"per_endpoint": 20, "per_failing_endpoint": 4, **caps}
        return services.claim_due_deliveries(session, now=at, limit=100, **caps)

    assert len(claim(failing={subscription.id})) == 4  # the caller saw it fail
    assert len(claim(busy={subscription.id: 4})) == 16  # healthy: the rest of its window
    subscription.failing_since = now  # failing in the database, whoever saw it
    session.flush()
    assert len(claim(at=now + services.CLAIM_LEASE)) == 4


def test_a_claim_given_back_is_due_again_unless_another_run_took_it_over(app, session, now_clock):
    shop = ShopFactory()
    services.create_subscription(
        session,
        shop_id=shop.id,
        url="https://hooks.example.com/in",
        topics=["order.*"],
        installation_id=None,
        granted_scopes=None,
        box=runtime_for(app).box,
        clock=now_clock,
    )
    session.commit()
    _emit_orders(session, shop, 2)
    services.dispatch_outbox(session, clock=now_clock)
    box = runtime_for(app).box
    first, second = services.claim_requests(session, now=now_clock.now(), limit=2, box=box)
    assert services.claim_due_deliveries(session, now=now_clock.now(), limit=10) == []

    assert services.release_claims(session, [first], now=now_clock.now()) == 1  # never sent: due again
    now_clock.advance(seconds=1)
    assert services.claim_due_deliveries(session, now=now_clock.now(), limit=10) == [first.delivery_id]  # another run
    # The first run gives back both: the claim another run holds now stays with it.
    assert services.release_claims(session, [first, second], now=now_clock.now()) == 1
    assert services.claim_due_deliveries(session, now=now_clock.now(), limit=10) == [second.delivery_id]

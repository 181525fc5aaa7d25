"""The invocation log outlives the checkout it belongs to: a rejected or failed checkout keeps its plugin
calls (and their failure counts) while nothing else of it is written."""

from __future__ import annotations

import base64
import threading

import pytest
import sqlalchemy as sa
from conftest import make_embedded_app
from plugin_modules import DENY, FIVE_OFF, TRAP

from factories import ShopFactory, UserFactory, token_for
from souk_platform.catalog.models import Sku
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.checkout.errors import OrderRejected
from souk_platform.checkout.models import Cart
from souk_platform.checkout.services import checkout, create_cart
from souk_platform.core.errors import OutOfStock
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.orders.models import Order
from souk_platform.plugins.models import PluginInvocation
from souk_platform.plugins.services import FAILING_THRESHOLD, create_activation, upload_plugin
from souk_platform.shops.services import create_shop


class _WritersSeenByLogInserts:
    """Installed on an engine before any thread uses it (listeners must never be added or removed while
    another thread — the embedded job runner — may be running them): while ``armed``, records for each
    ``INSERT INTO plugin_invocations`` the other connections of the same thread that held an open write
    transaction at that moment (what the insert would have to wait for)."""

    def __init__(self, app) -> None:
        self.armed = False
        self.seen: list[set[int]] = []
        self._open_writes: set[tuple[int, int]] = set()
        with app.app_context():
            engine = db.engine
        for name, listener in [
            ("begin", self._began),
            ("commit", self._ended),
            ("rollback", self._ended),
            ("before_cursor_execute", self._executing),
        ]:
            sa.event.listen(engine, name, listener)

    @staticmethod
    def _key(connection):
        return threading.get_ident(), id(connection.connection.dbapi_connection)

    def _began(self, connection):
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self._open_writes.add(self._key(connection))

    def _ended(self, connection):
        self._open_writes.discard(self._key(connection))

    def _executing(self, connection, _cursor, statement, *_args):
        if self.armed and statement.lstrip().upper().startswith("INSERT INTO PLUGIN_INVOCATIONS"):
            thread, me = self._key(connection)
            self.seen.append({c for t, c in self._open_writes if t == thread and c != me})


def _rows(model, shop_id, *where):
    db.session.expire_all()
    return db.session.scalars(sa.select(model).where(model.shop_id == shop_id, *where)).all()


def _events(shop_id, type_):
    return _rows(OutboxEvent, shop_id, OutboxEvent.type == type_)


def _cart(api, shop, quantity=1):
    body = {"lines": [{"sku_id": shop.tea, "quantity": quantity}], "customer_id": shop.customer_id}
    r = api.client.post("/api/v1/carts", json=body, headers=shop.headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def _available(shop):
    db.session.expire_all()
    sku = db.session.get(Sku, shop.tea)
    return sku.on_hand - sku.reserved


def test_a_checkout_denied_by_a_risk_plugin_keeps_the_log_of_every_call(api, shop):
    discount_id, _ = api.install(shop, FIVE_OFF, "cart.discounts")
    guard_id, _ = api.install(shop, DENY, "order.validate")
    cart_id = _cart(api, shop)
    stock_before = _available(shop)

    r = api.client.post(
        f"/api/v1/carts/{cart_id}/checkout", json={}, headers={**shop.headers, "Idempotency-Key": "deny-1"}
    )
    assert r.status_code == 422 and r.get_json()["type"].endswith("/order-rejected")

    log = api.get(shop, "/plugin-invocations").get_json()["items"]
    assert sorted((e["point"], e["outcome"], e["plugin_id"]) for e in log) == [
        ("cart.discounts", "ok", discount_id),
        ("order.validate", "ok", guard_id),
    ]
    deny = next(e for e in log if e["point"] == "order.validate")
    assert deny["output"] == {"allow": False, "reason": "blocked by the test guard"}
    detail = api.get(shop, f"/plugin-invocations/{deny['id']}").get_json()
    assert f'"sku_id":"{shop.tea}"' in detail["input"] and '"stats"' in detail["input"]
    export = api.get(shop, f"/plugin-invocations/{deny['id']}/export").get_json()
    assert export["input"]["order"]["discount_total"] == 500  # the discount the first plugin gave

    # Nothing else of the rejected checkout was written: no order, the cart still open, stock untouched,
    # no order event, and the Idempotency-Key is free to retry.
    assert _rows(Order, shop.id) == []
    assert db.session.get(Cart, cart_id).status == "open"
    assert _available(shop) == stock_before
    assert _events(shop.id, "order.created") == []
    r = api.client.post(
        f"/api/v1/carts/{cart_id}/checkout", json={}, headers={**shop.headers, "Idempotency-Key": "deny-1"}
    )
    assert r.status_code == 422 and "Idempotent-Replayed" not in r.headers
    assert len(api.get(shop, "/plugin-invocations").get_json()["items"]) == 4


def test_failures_in_rejected_checkouts_are_counted_and_emit_plugin_failing(api, shop):
    trap_id, _ = api.install(shop, TRAP, "cart.discounts")
    api.install(shop, DENY, "order.validate")
    for _ in range(FAILING_THRESHOLD):
        assert api.checkout(shop).status_code == 422

    health = api.get(shop, f"/plugins/{trap_id}/health").get_json()
    assert (health["calls"], health["failures"], health["failing"]) == (FAILING_THRESHOLD, FAILING_THRESHOLD, True)
    failing = _events(shop.id, "plugin.failing")
    assert [(e.subject_id, e.payload["failures"]) for e in failing] == [(trap_id, FAILING_THRESHOLD)]
    assert _rows(Order, shop.id) == [] and _events(shop.id, "order.created") == []


def test_a_checkout_that_fails_after_the_plugins_ran_keeps_their_logs(api, shop):
    plugin_id, _ = api.install(shop, FIVE_OFF, "cart.discounts")
    r = api.checkout(shop, quantity=11)  # 10 on hand: reserving stock fails after every plugin ran
    assert r.status_code == 409, r.get_json()

    log = api.get(shop, "/plugin-invocations").get_json()["items"]
    assert [(e["plugin_id"], e["outcome"]) for e in log] == [(plugin_id, "ok")]
    assert '"quantity":11' in api.get(shop, f"/plugin-invocations/{log[0]['id']}").get_json()["input"]
    assert _rows(Order, shop.id) == []


def test_a_savepoint_that_rolls_back_hands_its_log_rows_to_the_enclosing_transaction(api, shop, session, clock):
    api.install(shop, FIVE_OFF, "cart.discounts")
    cart = create_cart(
        session, shop_id=shop.id, customer_id=None, lines=[{"sku_id": shop.tea, "quantity": 11}], now=clock.now()
    )
    with pytest.raises(OutOfStock), session.begin_nested():
        checkout(
            session,
            shop_id=shop.id,
            cart_id=cart.id,
            customer_id=None,
            ip=None,
            coupon_codes=[],
            points_to_spend=0,
            stored_value_to_spend=0,
            now=clock.now(),
        )
    session.commit()
    assert [row.outcome for row in _rows(PluginInvocation, shop.id)] == ["ok"]
    assert _rows(Order, shop.id) == []


def test_a_committed_checkout_writes_each_call_once(api, shop):
    api.install(shop, FIVE_OFF, "cart.discounts")
    assert api.checkout(shop).status_code == 201
    assert len(_rows(PluginInvocation, shop.id)) == 1


@pytest.mark.embedded
def test_on_sqlite_a_denied_checkout_keeps_its_log_without_waiting_for_the_lock(tmp_path):
    """The embedded wiring holds SQLite's write lock for the whole request (BEGIN IMMEDIATE): the log is
    written after the rollback released it, on the same connection, so nothing waits or times out."""
    detector: list[_WritersSeenByLogInserts] = []
    embedded_app = make_embedded_app(tmp_path, before_use=lambda app: detector.append(_WritersSeenByLogInserts(app)))
    try:
        _denied_checkout_keeps_its_log(embedded_app, detector[0])
    finally:
        embedded_app.extensions["souk.jobs"].stop()


def _denied_checkout_keeps_its_log(embedded_app, writers):
    with embedded_app.app_context():
        owner = ShopFactory()
        product = create_product(
            db.session,
            shop_id=owner.id,
            title="Longjing",
            status="active",
            skus=[NewSku(code="TEA", title="250g", price=5000, on_hand=10)],
        )
        db.session.commit()
        sku_id, headers = product.skus[0].id, token_for(owner)
    client = embedded_app.test_client()
    body = {"name": "guard", "point": "order.validate", "module_base64": base64.b64encode(DENY).decode()}
    plugin_id = client.post("/api/v1/plugins", json=body, headers=headers).get_json()["id"]
    assert client.post("/api/v1/plugin-activations", json={"plugin_id": plugin_id}, headers=headers).status_code == 201
    cart = client.post("/api/v1/carts", json={"lines": [{"sku_id": sku_id, "quantity": 1}]}, headers=headers)

    writers.armed = True
    r = client.post(f"/api/v1/carts/{cart.get_json()['id']}/checkout", json={}, headers=headers)
    writers.armed = False
    assert r.status_code == 422 and r.get_json()["type"].endswith("/order-rejected")
    # The log rows went in when no other connection of the request held the write lock: nothing waited.
    assert writers.seen == [set()], writers.seen

    log = client.get("/api/v1/plugin-invocations", headers=headers).get_json()["items"]
    assert [(e["plugin_id"], e["outcome"], e["output"]["allow"]) for e in log] == [(plugin_id, "ok", False)]
    orders = client.get("/api/v1/orders", headers=headers).get_json()["items"]
    assert orders == []


def test_a_request_that_ends_without_commit_or_rollback_still_writes_its_log(app, api, shop, session, clock):
    """A page that lets an error escape leaves its transaction open; closing the session fires no
    rollback event, so the end of the request rolls back first and the calls are written."""
    api.install(shop, DENY, "order.validate")
    cart = create_cart(
        session, shop_id=shop.id, customer_id=None, lines=[{"sku_id": shop.tea, "quantity": 1}], now=clock.now()
    )
    session.commit()
    with app.test_request_context("/"), pytest.raises(OrderRejected):
        checkout(
            session,
            shop_id=shop.id,
            cart_id=cart.id,
            customer_id=None,
            ip=None,
            coupon_codes=[],
            points_to_spend=0,
            stored_value_to_spend=0,
            now=clock.now(),
        )
    session.close()  # what the end of the app context does
    assert [row.output["allow"] for row in _rows(PluginInvocation, shop.id)] == [False]


def test_a_log_that_cannot_be_written_never_hides_the_error_that_rolled_back(session, clock):
    """Everything here is one unit of work, the shop included: after the rollback the log rows point at
    a shop that never existed, so writing them fails; the caller still sees its own error, intact."""
    shop = create_shop(session, name="Fleeting", owner=UserFactory())
    product = create_product(
        session, shop_id=shop.id, title="Tea", status="active", skus=[NewSku(code="T", title="T", price=100, on_hand=5)]
    )
    plugin = upload_plugin(session, shop_id=shop.id, name="guard", point="order.validate", module=DENY)
    create_activation(session, shop_id=shop.id, plugin_id=plugin.id)
    cart = create_cart(
        session,
        shop_id=shop.id,
        customer_id=None,
        lines=[{"sku_id": product.skus[0].id, "quantity": 1}],
        now=clock.now(),
    )
    shop_id = shop.id
    with pytest.raises(OrderRejected, match="blocked by the test guard"):
        try:
            checkout(
                session,
                shop_id=shop_id,
                cart_id=cart.id,
                customer_id=None,
                ip=None,
                coupon_codes=[],
                points_to_spend=0,
                stored_value_to_spend=0,
                now=clock.now(),
            )
        except OrderRejected:
            session.rollback()
            raise
    assert session.scalar(sa.select(sa.func.count()).where(PluginInvocation.shop_id == shop_id)) == 0

"""souk_sdk.Client against the real app (in-process over WSGI): typed calls, pagination, idempotency, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from factories import ShopFactory, token_for
from souk_sdk import (
    Client,
    Conflict,
    InsufficientScope,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    Unprocessable,
    ValidationError,
)

BASE = "http://127.0.0.1"


def in_process(app: Flask) -> Callable[..., Any]:
    """The app as a WSGI callable giving each request its own app context (and so its own ``g``)."""

    def call(environ: dict[str, Any], start_response: Any) -> Any:
        with app.app_context():
            return app.wsgi_app(environ, start_response)

    return call


class LoseFirstResponse(httpx.BaseTransport):
    """The server handles the first request for ``path`` but its answer is lost on the way back."""

    def __init__(self, inner: httpx.BaseTransport, path: str) -> None:
        self.inner, self.path, self.lost = inner, path, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == self.path and not self.lost:
            self.lost += 1
            response.read()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


@pytest.fixture
def connect(app: Flask, session: Any, redis: Any) -> Iterator[Callable[..., Client]]:
    """``connect(shop, scopes=…, transport=…)`` → a Client with a fresh token on ``shop``; ``.sent`` logs requests."""
    opened: list[httpx.Client] = []

    def make(
        shop: Any, scopes: Any = None, *, wrap: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None
    ):
        header = token_for(shop) if scopes is None else token_for(shop, scopes)
        transport: httpx.BaseTransport = httpx.WSGITransport(app=in_process(app))
        sent: list[httpx.Request] = []
        slept: list[float] = []
        http = httpx.Client(transport=wrap(transport) if wrap else transport, event_hooks={"request": [sent.append]})
        opened.append(http)
        client = Client(BASE, header["Authorization"].removeprefix("Bearer "), http=http, sleep=slept.append)
        client.sent, client.slept = sent, slept
        return client

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def shop(session: Any) -> Any:
    return ShopFactory()


def _product(client: Client, title: str, code: str, *, stock: int = 10, price: int = 8800) -> dict[str, Any]:
    body = {
        "title": title,
        "status": "active",
        "skus": [{"code": code, "title": "50 g", "price": price, "on_hand": stock}],
    }
    return dict(client.products.create(body))


def test_create_read_update_with_versions(connect, shop):
    client = connect(shop)
    created = client.products.create(
        {"title": "Longjing", "skus": [{"code": "LJ-50", "title": "50 g", "price": 8800, "on_hand": 5}]}
    )
    assert created["id"].startswith("prd_") and created["status"] == "draft"
    assert [(s["code"], s["price"], s["available"]) for s in created["skus"]] == [("LJ-50", 8800, 5)]
    assert client.products.get(created["id"]) == created

    renamed = client.products.update(created["id"], {"title": "Xihu Longjing"}, if_match=created["version"])
    assert renamed["title"] == "Xihu Longjing" and renamed["version"] == created["version"] + 1
    assert client.sent[-1].headers["If-Match"] == f'"{created["version"]}"'

    with pytest.raises(PreconditionFailed) as stale:  # someone else's version: nothing changes
        client.products.update(created["id"], {"title": "Maofeng"}, if_match=created["version"])
    assert stale.value.status == 412 and stale.value.code == "version-mismatch"
    assert client.products.get(created["id"])["title"] == "Xihu Longjing"

    sku = client.skus.adjust_stock(created["skus"][0]["id"], {"delta": 7, "reason": "restock"})
    assert sku["on_hand_after"] == 12 and client.skus.get(created["skus"][0]["id"])["available"] == 12


def test_iter_follows_next_cursor_page_by_page(connect, shop):
    client = connect(shop)
    made = [_product(client, f"Tea {n}", f"T-{n}") for n in range(5)]
    client.sent.clear()

    titles = [p["title"] for p in client.products.iter(limit=2)]

    assert titles == [p["title"] for p in reversed(made)]  # newest first, none twice, none missing
    assert [r.url.params.get("limit") for r in client.sent] == ["2", "2", "2"]
    assert [r.url.params.get("cursor") is None for r in client.sent] == [True, False, False]
    first_page = client.products.list(limit=2)
    assert len(first_page["items"]) == 2 and first_page["next_cursor"]
    assert list(client.products.iter(q="Tea 3")) == [made[3]]  # filters go along on every page
    assert list(client.customers.iter()) == []


def test_an_order_from_cart_to_refund(connect, shop):
    client = connect(shop)
    product = _product(client, "Tieguanyin", "TGY-1", stock=3, price=5000)
    customer = client.customers.create({"name": "Lin Hua", "phone": "+86 138 0000 0000"})
    cart = client.carts.create(
        {"customer_id": customer["id"], "lines": [{"sku_id": product["skus"][0]["id"], "quantity": 2}]}
    )

    order = client.carts.checkout(cart["id"])
    checkout_request = client.sent[-1]
    assert order["status"] == "pending_payment" and order["total"] == 10000 and order["currency"] == "CNY"
    assert len(checkout_request.headers["Idempotency-Key"]) == 36  # generated, as the call moves stock and money

    payment = client.payments.create(order["id"])
    assert client.sent[-1].headers["Idempotency-Key"] != checkout_request.headers["Idempotency-Key"]
    paid = client.payments.callback(payment["id"], {"outcome": "succeeded"})
    assert paid["status"] == "succeeded" and client.orders.get(order["id"])["status"] == "paid"

    refund = client.refunds.create(order["id"], {"amount": 4000, "reason": "one tin arrived dented"})
    assert refund["amount"] == 4000
    detail = client.orders.get(order["id"])
    assert detail["refunded_total"] == 4000 and [r["id"] for r in detail["refunds"]] == [refund["id"]]
    assert [o["id"] for o in client.orders.iter(customer_id=customer["id"])] == [order["id"]]
    assert client.skus.get(product["skus"][0]["id"])["on_hand"] == 1


def test_a_retry_after_a_lost_answer_tops_up_once(connect, shop):
    setup = connect(shop)
    customer = setup.customers.create({"name": "Wang Fang"})
    path = f"/api/v1/customers/{customer['id']}/stored-value/top-ups"
    client = connect(shop, wrap=lambda inner: LoseFirstResponse(inner, path))

    result = client.stored_value.top_up(customer["id"], {"amount": 20000, "reference": "till-7"})

    assert result["balance"] == 20000  # the replayed first answer, not a second top-up
    first, second = [r for r in client.sent if r.url.path == path]
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert len(client.slept) == 1
    assert client.stored_value.get(customer["id"])["balance"] == 20000


def test_a_key_of_your_own_replays_and_refuses_a_different_body(connect, shop):
    client = connect(shop)
    customer = client.customers.create({"name": "Zhao Lei"})
    first = client.points.adjust(customer["id"], {"points": 300, "reason": "welcome"}, idempotency_key="welcome-1")
    again = client.points.adjust(customer["id"], {"points": 300, "reason": "welcome"}, idempotency_key="welcome-1")
    assert first == again and client.points.get(customer["id"])["balance"] == 300

    with pytest.raises(Unprocessable) as reused:
        client.points.adjust(customer["id"], {"points": 900, "reason": "welcome"}, idempotency_key="welcome-1")
    assert reused.value.code == "idempotency-key-reused" and not isinstance(reused.value, ValidationError)
    with pytest.raises(Unprocessable) as short:
        client.points.adjust(customer["id"], {"points": -301, "reason": "typo"})
    assert short.value.code == "insufficient-balance"
    assert client.points.get(customer["id"])["balance"] == 300


def test_refusals_raise_typed_errors_and_change_nothing(connect, shop):
    client = connect(shop)
    with pytest.raises(ValidationError) as invalid:
        client.products.create({"title": "", "colour": "red"})
    error = invalid.value
    assert error.status == 422 and set(error.errors) == {"title", "colour"}
    assert error.type == "https://souk.dev/problems/validation-failed" and error.instance.startswith("/api/v1/products")
    assert "colour" in str(error) and client.products.list()["items"] == []

    _product(client, "Baihao", "BH-1")
    with pytest.raises(Conflict) as duplicate:
        _product(client, "Baihao again", "BH-1")
    assert duplicate.value.status == 409 and len(client.products.list()["items"]) == 1

    with pytest.raises(NotFound):
        client.orders.get("ord_00000000000000000000000000")


def test_another_shops_object_is_not_found(connect, shop):
    theirs = _product(connect(ShopFactory()), "Their tea", "THEIR-1")
    with pytest.raises(NotFound) as missing:
        connect(shop).products.get(theirs["id"])
    assert missing.value.status == 404 and missing.value.problem["status"] == 404


def test_a_token_without_the_scope_names_the_one_it_needs(connect, shop):
    reader = connect(shop, ["read_products"])
    assert reader.products.list()["items"] == []
    with pytest.raises(InsufficientScope) as refused:
        reader.products.create({"title": "Pu'er"})
    assert refused.value.status == 403 and refused.value.required_scope == "write_products"
    assert reader.products.list()["items"] == []


def test_a_bad_token_is_unauthorized(app, session, redis):
    http = httpx.Client(transport=httpx.WSGITransport(app=in_process(app)))
    with Client(BASE, "souk_at_not-a-token", http=http) as client, pytest.raises(Unauthorized) as refused:
        client.shop.get()
    assert refused.value.status == 401 and refused.value.headers["WWW-Authenticate"].startswith("Bearer")
    assert not http.is_closed  # a client passed in stays open for its owner
    http.close()


def test_ids_are_sent_as_one_path_segment(connect, shop):
    client = connect(shop)
    with pytest.raises(NotFound):
        client.products.get("../shop")
    assert client.sent[-1].url.raw_path == b"/api/v1/products/..%2Fshop"
    with pytest.raises(ValueError, match="product_id"):
        client.products.get("")  # would be the list URL

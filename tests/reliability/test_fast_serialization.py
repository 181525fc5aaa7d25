"""The fast read path emits exactly what each endpoint's schema documents (docs/architecture.md §4.8).

Every view declared with ``fast_response`` is found through the app (``fast_views``), so a new one
fails here until it has a case below. Each case builds varied data (nullable fields null and set,
unicode and characters JSON escapes, several SKUs, zero and large money, microseconds) and compares
the endpoint's bytes with what the old path writes for the same resource: the ORM objects dumped by
the documented schema and encoded by Flask's ``jsonify``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from marketplace.listings.world import install, list_app, make_app
from sqlalchemy.orm import selectinload

from factories import ShopFactory, token_for
from souk_marketplace.listings.api import entry_view
from souk_marketplace.listings.models import Listing
from souk_marketplace.listings.services import search_market
from souk_marketplace.ratings.models import AppRating
from souk_platform.api.encoding import encode_json, fast_response_sent, fast_views
from souk_platform.api.pagination import page_of
from souk_platform.catalog import categories
from souk_platform.catalog import services as catalog
from souk_platform.catalog.models import MAX_PRICE, Product, ProductTag, Sku
from souk_platform.orders.models import Order, OrderLine, Payment, Refund
from souk_platform.shops.models import Shop

# Text that takes every escaping path: CJK, an astral emoji (a surrogate pair), Latin-1, DEL,
# a control character, quotes and backslashes, and U+2028.
ODD_TEXT = '满减 🛒 café \x7f\x01 "q" \\ \u2028 end'


def _jsonify_bytes(app: Flask, body: Any) -> bytes:
    """What the old path sent: ``jsonify`` of the schema's dump."""
    with app.test_request_context():
        return app.json.response(body).get_data()


def _types(value: Any) -> Any:
    """``value`` with every leaf replaced by its type, to compare structure and types."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value)


@contextmanager
def _served(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(sender: Any, endpoint: str, schema: Any) -> None:
        seen.append((endpoint, schema))

    with fast_response_sent.connected_to(record, app):
        yield seen


# --- the world the cases read ---------------------------------------------------------------------------


@pytest.fixture
def world(app: Flask, session: Any, clock: Any) -> dict[str, Any]:
    shop = ShopFactory(name=ODD_TEXT)
    shop.timezone = "America/New_York"
    shop.settings = {**shop.settings, "note": {"nested": [1, None, "二"]}}
    session.commit()
    now = clock.now()
    root = categories.create_category(session, shop_id=shop.id, name=ODD_TEXT)
    leaf = categories.create_category(session, shop_id=shop.id, name="奶粉", parent_id=root.id)
    products = [
        catalog.create_product(
            session, shop_id=shop.id, title="Plain", description="", status="draft", skus=[]
        ),  # no SKUs
        catalog.create_product(
            session,
            shop_id=shop.id,
            title=ODD_TEXT,
            description="多行\n描述\tand tabs",
            status="active",
            category_id=leaf.id,
            tags=[ODD_TEXT[:30], "新品", "A"],
            skus=[
                catalog.NewSku(code="FREE-1", title="Free", price=0, on_hand=0),
                catalog.NewSku(code="BIG-1", title="贵", price=MAX_PRICE, on_hand=1_000_000_000),
                catalog.NewSku(code="MID-1", title=ODD_TEXT, price=12345, on_hand=7),
            ],
        ),
        catalog.create_product(
            session,
            shop_id=shop.id,
            title="Archived",
            description="x",
            status="archived",
            category_id=root.id,
            tags=["新品"],
            skus=[catalog.NewSku(code="OLD-1", title="Old", price=1, on_hand=3)],
        ),
    ]
    session.flush()
    products[1].updated_at = now + dt.timedelta(microseconds=123456)
    session.execute(sa.update(Sku).where(Sku.code == "MID-1").values(reserved=4))
    session.commit()

    bare = Order(
        shop_id=shop.id,
        customer_id=None,
        currency="CNY",
        subtotal=0,
        total=0,
        reservation_expires_at=now + dt.timedelta(minutes=30),
        discounts=[],
        fees=[],
    )
    full = Order(
        shop_id=shop.id,
        customer_id="cus_01j0000000000000000000000",
        status="paid",
        currency="CNY",
        subtotal=MAX_PRICE,
        discount_total=1000,
        fee_total=500,
        points_spent=100,
        points_value=100,
        stored_value_used=2000,
        total=MAX_PRICE - 2600,
        refunded_total=300,
        points_earned=9,
        cashback_amount=1,
        # A stored key the schema does not document is not shown (as the Nested schema dumps it).
        discounts=[{"coupon_id": "cpn_1", "code": None, "label": ODD_TEXT, "amount": 1000, "extra": True}],
        fees=[{"label": "运费", "amount": 500}],
        cart_id="crt_1",
        cancel_reason=ODD_TEXT,
        reservation_expires_at=now + dt.timedelta(minutes=30, microseconds=1),
        paid_at=now + dt.timedelta(seconds=5),
        fulfilled_at=now + dt.timedelta(hours=1),
    )
    session.add_all([bare, full])
    session.flush()
    session.add_all(
        [
            OrderLine(
                order_id=full.id,
                shop_id=shop.id,
                sku_id="sku_a",
                product_id=products[1].id,
                title=ODD_TEXT,
                unit_price=MAX_PRICE,
                quantity=1,
                discount=1000,
                refunded_quantity=1,
                position=0,
            ),
            OrderLine(
                order_id=full.id,
                shop_id=shop.id,
                sku_id="sku_b",
                product_id=products[1].id,
                title="Free",
                unit_price=0,
                quantity=3,
                position=1,
            ),
            Payment(
                shop_id=shop.id,
                order_id=full.id,
                provider="test",
                provider_reference=None,
                amount=5,
                currency="CNY",
                status="failed",
                failure_reason=ODD_TEXT,
                created_at=now,
            ),
            Payment(
                shop_id=shop.id,
                order_id=full.id,
                provider="test",
                provider_reference="ref-1",
                amount=MAX_PRICE - 2600,
                currency="CNY",
                status="succeeded",
                created_at=now + dt.timedelta(seconds=1),
                settled_at=now + dt.timedelta(seconds=2),
            ),
            Refund(
                shop_id=shop.id,
                order_id=full.id,
                amount=300,
                reason=ODD_TEXT,
                restock=True,
                lines=[{"line_id": "oln_1", "quantity": 1}],
                created_at=now + dt.timedelta(days=1),
            ),
        ]
    )
    session.commit()
    return {
        "app": app,
        "shop_id": shop.id,
        "headers": token_for(shop),
        "product_ids": [p.id for p in products],
        "category_ids": [root.id, leaf.id],
        "order_ids": [bare.id, full.id],
    }


# --- the cases: each endpoint's requests and the old path's body for them ---------------------------------

Reference = Callable[[Any, dict[str, Any]], list[tuple[str, Any]]]


def _shop(session: Any, world: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("/api/v1/shop", session.get(Shop, world["shop_id"]))]


def _product(session: Any, world: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (
            f"/api/v1/products/{product_id}",
            catalog.get_product(session, shop_id=world["shop_id"], product_id=product_id),
        )
        for product_id in world["product_ids"]
    ]


def _product_page(session: Any, world: dict[str, Any], query: str, **args: Any) -> tuple[str, Any]:
    stmt = sa.select(Product).where(Product.shop_id == world["shop_id"]).options(selectinload(Product.skus))
    if args.get("status"):
        stmt = stmt.where(Product.status == args["status"])
    if args.get("q"):
        stmt = stmt.where(sa.func.lower(Product.title).contains(args["q"].lower(), autoescape=True))
    if args.get("category_ids"):
        stmt = stmt.where(Product.category_id.in_(args["category_ids"]))
    if args.get("tag"):
        stmt = stmt.where(Product.tag_rows.any(ProductTag.tag == args["tag"]))
    page = page_of(session, stmt, Product.id, limit=args.get("limit", 50), cursor=args.get("cursor"))
    return f"/api/v1/products{query}", {"items": page.items, "next_cursor": page.next_cursor}


def _products(session: Any, world: dict[str, Any]) -> list[tuple[str, Any]]:
    root, leaf = world["category_ids"]
    first = _product_page(session, world, "?limit=2", limit=2)
    cursor = first[1]["next_cursor"]
    return [
        _product_page(session, world, ""),
        first,
        _product_page(session, world, f"?limit=2&cursor={cursor}", limit=2, cursor=cursor),
        _product_page(session, world, "?status=active", status="active"),
        _product_page(session, world, "?q=%E6%BB%A1%E5%87%8F", q="满减"),
        _product_page(session, world, "?q=nothing", q="nothing"),
        _product_page(session, world, f"?category_id={root}", category_ids=[root, leaf]),
        _product_page(session, world, f"?category_id={leaf}", category_ids=[leaf]),
        _product_page(session, world, "?tag=%E6%96%B0%E5%93%81", tag="新品"),
    ]


def _order_page(session: Any, world: dict[str, Any], query: str, **args: Any) -> tuple[str, Any]:
    stmt = sa.select(Order).where(Order.shop_id == world["shop_id"])
    if args.get("status"):
        stmt = stmt.where(Order.status == args["status"])
    page = page_of(session, stmt, Order.id, limit=args.get("limit", 50), cursor=args.get("cursor"))
    return f"/api/v1/orders{query}", {"items": page.items, "next_cursor": page.next_cursor}


def _orders(session: Any, world: dict[str, Any]) -> list[tuple[str, Any]]:
    first = _order_page(session, world, "?limit=1", limit=1)
    cursor = first[1]["next_cursor"]
    return [
        _order_page(session, world, ""),
        first,
        _order_page(session, world, f"?limit=1&cursor={cursor}", limit=1, cursor=cursor),
        _order_page(session, world, "?status=paid", status="paid"),
    ]


def _order(session: Any, world: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(f"/api/v1/orders/{order_id}", session.get(Order, order_id)) for order_id in world["order_ids"]]


def _market(session: Any, world: dict[str, Any]) -> list[tuple[str, Any]]:
    app = world["app"]
    references = []
    for query, args, offset, limit in (
        ("", {}, 0, 20),
        ("?limit=1", {}, 0, 1),
        ("?limit=1&cursor=b2Zmc2V0OjE", {}, 1, 1),
        ("?sort=rating", {"sort": "rating"}, 0, 20),
        ("?sort=newest&category=risk", {"sort": "newest", "category": "risk"}, 0, 20),
        ("?q=%E6%BB%A1%E5%87%8F", {"q": "满减"}, 0, 20),
    ):
        entries = search_market(session, limit=limit + 1, offset=offset, **args)
        with app.test_request_context():
            items = [entry_view(entry) for entry in entries[:limit]]
        more = len(entries) > limit
        cursor = base64.urlsafe_b64encode(f"offset:{offset + limit}".encode()).decode().rstrip("=") if more else None
        references.append((f"/api/v1/market/apps{query}", {"items": items, "next_cursor": cursor}))
    return references


CASES: dict[tuple[str, str], Reference] = {
    ("shop.ShopResource", "GET"): _shop,
    ("catalog.ProductResource", "GET"): _product,
    ("catalog.ProductList", "GET"): _products,
    ("orders.OrderList", "GET"): _orders,
    ("orders.OrderResource", "GET"): _order,
    ("market_listings.MarketApps", "GET"): _market,
}


@pytest.fixture
def market(world: dict[str, Any], app: Flask, session: Any, clock: Any) -> None:
    """Two listed apps, one crowdfunded with ratings averaging a repeating fraction, one with installs."""
    _, rated, _ = make_app(session, name="Rated")
    list_app(session, app, rated, clock.now(), category="marketing")
    clock.advance(hours=1)
    _, risky, _ = make_app(session, name="Risky")
    texts = {
        "en": {"name": "Risky", "tagline": "Risk rules", "description": "Stops bad orders."},
        "zh_CN": {"name": ODD_TEXT, "tagline": "满减 tagline", "description": "说明"},
    }
    list_app(session, app, risky, clock.now(), category="risk", texts=texts)
    session.execute(sa.update(Listing).where(Listing.app_id == rated.id).values(crowdfunded=True))
    for stars in (5, 4, 4):
        session.add(
            AppRating(
                app_id=rated.id,
                shop_id=ShopFactory().id,
                stars=stars,
                text="ok",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    install(session, risky, ShopFactory().id, clock.now())
    session.commit()


# --- the proofs -----------------------------------------------------------------------------------------


def test_every_fast_view_documents_the_schema_it_is_proven_against(app: Flask) -> None:
    found = list(fast_views(app))
    assert {(view.endpoint, view.method) for view in found} == set(CASES), "add a case for each fast view"
    for view in found:
        method = getattr(app.view_functions[view.endpoint].view_class, view.method.lower())
        documented = method._apidoc["response"]["responses"][200][0]["schema"]
        assert type(documented) is view.schema and not documented.many


@pytest.mark.parametrize("endpoint", sorted(CASES), ids=lambda e: f"{e[1]} {e[0]}")
def test_fast_path_emits_exactly_what_the_schema_documents(
    app: Flask, client: Any, session: Any, world: dict[str, Any], market: None, endpoint: tuple[str, str]
) -> None:
    (view,) = [v for v in fast_views(app) if (v.endpoint, v.method) == endpoint]
    headers = world["headers"]
    # The old path's bodies, dumped before any request ends the session the ORM objects live in.
    references = [(url, view.schema().dump(resource)) for url, resource in CASES[endpoint](session, world)]
    assert references
    for url, expected_body in references:
        expected = _jsonify_bytes(app, expected_body)
        with _served(app) as served:
            r = client.get(url, headers=headers)
        assert r.status_code == 200, (url, r.get_json())
        assert served == [(endpoint[0], view.schema)], f"{url} was not served by the fast path"
        assert r.data == expected, url
        assert json.loads(r.data) == expected_body and _types(json.loads(r.data)) == _types(expected_body)
        assert r.headers["Content-Type"] == "application/json"
        if "next_cursor" in expected_body:
            assert ("Link" in r.headers) == (expected_body["next_cursor"] is not None)


def test_the_cases_cover_what_they_claim(session: Any, world: dict[str, Any], market: None) -> None:
    """The data really has what the proofs claim to vary (a proof over empty lists proves nothing)."""
    products = _products(session, world)[0][1]["items"]
    assert any(not p.skus for p in products) and any(len(p.skus) == 3 for p in products)
    prices = {sku.price for p in products for sku in p.skus}
    assert 0 in prices and MAX_PRICE in prices
    orders = _orders(session, world)[0][1]["items"]
    assert any(o.paid_at is None for o in orders) and any(o.paid_at is not None for o in orders)
    market_items = _market(session, world)[0][1]["items"]
    assert len(market_items) == 2 and {i["rating"]["average"] for i in market_items} == {None, 13 / 3}


def test_encoding_matches_the_stdlib_on_every_escape() -> None:
    body = {
        "text": ODD_TEXT + "".join(chr(c) for c in range(0x20)) + "\ud7ff\ue000\uffff\U0010ffff",
        "b": [0, -1, 10**15, 1.5, 13 / 3, True, None, {"z": 1, "a": 2}],
    }
    expected = (json.dumps(body, ensure_ascii=True, sort_keys=True, separators=(",", ":")) + "\n").encode()
    assert encode_json(body) == expected

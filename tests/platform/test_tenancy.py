"""Nothing of shop A is reachable with shop B's token: a suite generated from the URL map.

For every ``/api/v1`` rule with a path variable and every method, shop A gets one of every object (built
through the domains' services), and shop B's all-scopes token calls the route with A's ids. The answer
must be exactly the answer for ids that do not exist (404, same problem type), and A's rows and events
must be unchanged. A control call with A's own token proves the ids and bodies would have reached the
objects. A new route is covered on its own; one whose path variable is not in ``OBJECTS``, or a write
without a request in ``BODIES``, fails here until someone says how to build its data.
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import wasmtime
from flask import Flask, current_app
from marketplace.billing.builders import another_shops_installation_token, billing_world
from marketplace.listings.builders import listings_world
from marketplace.requirements.builders import requirements_world
from marketplace.service_market.builders import service_market_world

from factories import ShopFactory, UserFactory, token_for
from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.auth.scopes import all_scopes
from souk_platform.benefits.services import create_package, grant_package
from souk_platform.catalog.categories import create_category
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.checkout.services import add_cart_line, checkout, create_cart
from souk_platform.core.clock import FrozenClock
from souk_platform.core.ids import new_id
from souk_platform.coupons.issues import create_issue
from souk_platform.coupons.packs import create_pack
from souk_platform.coupons.services import create_coupon
from souk_platform.coupons.wallet import issue_coupon
from souk_platform.customers.services import add_identity, create_customer
from souk_platform.db import Base
from souk_platform.journeys.models import JourneyEnrollment, JourneyVersion
from souk_platform.journeys.services import create_from_template
from souk_platform.members.perks import create_member_price
from souk_platform.messaging.models import MessageChannel
from souk_platform.messaging.services import create_template, ensure_built_in_channels, send_message
from souk_platform.oauth.services import issue_app_token
from souk_platform.orders.services import create_refund, settle_payment, start_payment
from souk_platform.plugins.models import PluginInvocation
from souk_platform.plugins.services import create_activation, upload_plugin
from souk_platform.points.services import award_points, points_account_id
from souk_platform.points_mall.services import create_item, redeem
from souk_platform.points_tasks.completions import complete_task
from souk_platform.points_tasks.services import create_task
from souk_platform.risk.models import RiskReview
from souk_platform.risk.services import create_entry
from souk_platform.shops.models import Shop
from souk_platform.shops.services import update_shop
from souk_platform.stored_value.services import top_up
from souk_platform.tags.services import create_segment, create_tag, import_tags, tag_customers
from souk_platform.tags.snapshots import take_snapshot
from souk_platform.webhooks.listen import open_listen_session
from souk_platform.webhooks.runtime import runtime_for
from souk_platform.webhooks.services import create_subscription, send_test_event

# A valid ABI v1 module (it ignores its input): shop A's own plugin.
CONSTANT_PLUGIN = wasmtime.wat2wasm(
    (Path(__file__).resolve().parents[1] / "sandbox" / "plugins" / "constant.wat").read_text()
)

World = dict[str, str]  # object name -> shop A's id of it
Body = Callable[[World], dict[str, Any]] | None

# Path variable -> the object of shop A it names. ONE table: a new variable name fails the suite.
OBJECTS: dict[str, str] = {
    "product_id": "product",
    "category_id": "category",
    "sku_id": "sku",
    "customer_id": "customer",
    "identity_id": "customer_identity",
    "package_id": "benefit_package",
    "grant_id": "benefit_grant",
    "journey_id": "journey",
    "key": "journey_template",
    "tag_id": "tag",
    "segment_id": "segment",
    "snapshot_id": "segment_snapshot",
    "coupon_id": "coupon",
    "issue_id": "coupon_issue",
    "pack_id": "coupon_pack",
    "cart_id": "cart",
    "line_id": "cart_line",
    "order_id": "order",
    "payment_id": "payment",
    "refund_id": "refund",
    "account_id": "points_account",
    "import_id": "tag_import",
    "installation_id": "installation",
    "subscription_id": "webhook_subscription",
    "delivery_id": "webhook_delivery",
    "plugin_id": "plugin",
    "activation_id": "plugin_activation",
    "invocation_id": "plugin_invocation",
    "version_id": "app_version",
    "service_order_id": "service_order",
    "service_file_id": "service_file",
    "service_id": "service",
    "provider_id": "service_provider",
    "app_subscription_id": "app_subscription",
    "charge_id": "app_charge",
    "invoice_id": "billing_invoice",
    "requirement_id": "requirement",
    "pledge_id": "requirement_pledge",
    "proposal_id": "requirement_proposal",
    "app_ref": "listing",
    "app_id": "app",
    "rating_id": "rating",
    "listen_session_id": "listen_session",
    "member_price_id": "member_price",
    "enrollment_id": "journey_enrollment",
    "channel_id": "message_channel",
    "template_id": "message_template",
    "message_id": "message",  # on shop A's app's channel: the app reports on it
    "inbox_message_id": "inbox_message",
    "decision_id": "risk_decision",
    "entry_id": "risk_list_entry",
    "review_id": "risk_review",
    "item_id": "points_mall_item",
    "redemption_id": "points_mall_redemption",  # of shop A's app's item: the app reports on it
    "task_id": "points_task",
    "completion_id": "points_task_completion",
}
# Path variables naming catalogue objects every shop sees alike (the service market's services and
# providers): shop B must get exactly what shop A gets, and a list showing them leaks nothing.
# app_ref: an app listed in the app market; key: a journey template, the same gallery for every shop
PUBLIC_OBJECTS = {"service_id", "provider_id", "app_ref", "key"}
# Routes of the public requirement board that any shop may call on shop A's requirement (read it, pledge,
# vote as a backer): B must reach it (no 404) and leave A's rows as they were. Owner-only routes on a
# requirement (cancel, accept a proposal) are checked like any shop object.
OPEN_TO_EVERY_SHOP = {
    ("GET", "/api/v1/requirements/<requirement_id>"),
    ("POST", "/api/v1/requirements/<requirement_id>/pledges"),
    ("POST", "/api/v1/requirements/<requirement_id>/proposal-votes"),
    ("POST", "/api/v1/requirements/<requirement_id>/delivery-votes"),
    # a draft from a template is made in the caller's own shop
    ("POST", "/api/v1/journey-templates/<key>/drafts"),
}
# Lists anyone may read that show other shops' public objects: the requirement board.
PUBLIC_LIST_ITEMS: dict[str, set[str]] = {
    "/api/v1/requirements": {"requirement"},
    "/api/v1/market/apps": {"app", "listing"},  # the app market lists shop A's installed app: it is listed
}

# (method, rule) -> a request body that A's own token may send (None: the route takes no body).
# Every write with a path variable needs an entry, so B's 404 is never just a refused body.
BODIES: dict[tuple[str, str], Body] = {
    ("PATCH", "/api/v1/products/<product_id>"): lambda w: {"title": "Renamed"},
    ("PATCH", "/api/v1/categories/<category_id>"): lambda w: {"name": "Renamed"},
    ("DELETE", "/api/v1/categories/<category_id>"): None,
    ("DELETE", "/api/v1/products/<product_id>"): None,
    ("POST", "/api/v1/products/<product_id>/skus"): lambda w: {"code": "NEW-1", "title": "New", "price": 100},
    ("PATCH", "/api/v1/skus/<sku_id>"): lambda w: {"title": "Renamed"},
    ("POST", "/api/v1/skus/<sku_id>/inventory-adjustments"): lambda w: {"delta": 1, "reason": "recount"},
    ("PATCH", "/api/v1/customers/<customer_id>"): lambda w: {"name": "Renamed"},
    ("POST", "/api/v1/customers/<customer_id>/identities"): lambda w: {"provider": "alipay", "external_id": "2088x"},
    ("DELETE", "/api/v1/customers/<customer_id>/identities/<identity_id>"): None,
    ("PATCH", "/api/v1/benefit-packages/<package_id>"): lambda w: {"name": "Renamed"},
    ("DELETE", "/api/v1/benefit-packages/<package_id>"): None,
    ("POST", "/api/v1/benefit-packages/<package_id>/grants"): lambda w: {"customer_ids": [w["customer"]]},
    ("POST", "/api/v1/benefit-grants/<grant_id>/use"): None,
    ("POST", "/api/v1/journeys/<journey_id>/enrollments/<enrollment_id>/exit"): None,
    ("PATCH", "/api/v1/journeys/<journey_id>"): lambda w: {"name": "Renamed"},
    ("DELETE", "/api/v1/journeys/<journey_id>"): None,
    ("POST", "/api/v1/journeys/<journey_id>/activate"): None,
    ("POST", "/api/v1/journeys/<journey_id>/pause"): None,
    ("POST", "/api/v1/journeys/<journey_id>/resume"): None,
    ("POST", "/api/v1/journeys/<journey_id>/archive"): None,
    ("POST", "/api/v1/journeys/<journey_id>/validate"): lambda w: {},
    ("POST", "/api/v1/journey-templates/<key>/drafts"): lambda w: {},
    ("PATCH", "/api/v1/message-channels/<channel_id>"): lambda w: {"name": "Renamed"},
    ("PATCH", "/api/v1/message-templates/<template_id>"): lambda w: {"name": "Renamed"},
    ("DELETE", "/api/v1/message-templates/<template_id>"): None,
    ("POST", "/api/v1/message-templates/<template_id>/preview"): lambda w: {"customer_id": w["customer"]},
    ("POST", "/api/v1/customers/<customer_id>/messages/<inbox_message_id>/read"): None,
    ("POST", "/api/v1/app/messages/<message_id>/status"): lambda w: {"status": "delivered"},
    ("PATCH", "/api/v1/points-mall/items/<item_id>"): lambda w: {"title": "Renamed"},
    ("DELETE", "/api/v1/points-mall/items/<item_id>"): None,
    ("POST", "/api/v1/points-mall/redemptions/<redemption_id>/cancel"): lambda w: {},
    ("POST", "/api/v1/app/points-mall/redemptions/<redemption_id>/fulfilment"): lambda w: {"status": "fulfilled"},
    ("PATCH", "/api/v1/risk/lists/<entry_id>"): lambda w: {"note": "Renamed"},
    ("DELETE", "/api/v1/risk/lists/<entry_id>"): None,
    ("POST", "/api/v1/risk/reviews/<review_id>/approve"): lambda w: {},
    ("POST", "/api/v1/risk/reviews/<review_id>/reject"): lambda w: {},
    ("PATCH", "/api/v1/points-tasks/<task_id>"): lambda w: {"name": "Renamed"},
    ("DELETE", "/api/v1/points-tasks/<task_id>"): None,
    ("POST", "/api/v1/points-tasks/<task_id>/completions"): lambda w: {"customer_id": w["customer"], "reference": "r2"},
    ("POST", "/api/v1/points-tasks/<task_id>/completions/<completion_id>/approve"): None,
    ("POST", "/api/v1/points-tasks/<task_id>/completions/<completion_id>/reject"): None,
    ("POST", "/api/v1/customers/<customer_id>/sign-ins"): lambda w: {},
    ("POST", "/api/v1/customers/<customer_id>/coupons"): lambda w: {"coupon_id": w["coupon"]},
    ("POST", "/api/v1/customers/<customer_id>/level"): lambda w: {"level": 2, "reason": "loyal"},
    ("POST", "/api/v1/customers/<customer_id>/level/evaluate"): None,
    ("POST", "/api/v1/customers/<customer_id>/points/adjustments"): lambda w: {"points": 10, "reason": "gift"},
    ("POST", "/api/v1/customers/<customer_id>/stored-value/top-ups"): lambda w: {"amount": 100},
    ("PATCH", "/api/v1/tags/<tag_id>"): lambda w: {"description": "changed"},
    ("DELETE", "/api/v1/tags/<tag_id>"): None,
    ("POST", "/api/v1/tags/<tag_id>/customers"): lambda w: {"customer_ids": [w["customer"]]},
    ("DELETE", "/api/v1/tags/<tag_id>/customers/<customer_id>"): None,
    ("POST", "/api/v1/tags/<tag_id>/evaluate"): None,
    ("PATCH", "/api/v1/segments/<segment_id>"): lambda w: {"description": "changed"},
    ("DELETE", "/api/v1/segments/<segment_id>"): None,
    ("POST", "/api/v1/segments/<segment_id>/snapshots"): lambda w: {},
    ("DELETE", "/api/v1/segment-snapshots/<snapshot_id>"): None,
    ("PATCH", "/api/v1/member-prices/<member_price_id>"): lambda w: {"price": 4000},
    ("DELETE", "/api/v1/member-prices/<member_price_id>"): None,
    ("PATCH", "/api/v1/coupons/<coupon_id>"): lambda w: {"name": "Renamed"},
    ("DELETE", "/api/v1/coupons/<coupon_id>"): None,
    ("POST", "/api/v1/coupons/<coupon_id>/issues"): lambda w: {"customer_ids": [w["customer"]]},
    ("PATCH", "/api/v1/coupon-packs/<pack_id>"): lambda w: {"name": "Renamed"},
    ("POST", "/api/v1/coupon-packs/<pack_id>/purchases"): lambda w: {"customer_id": w["customer"]},
    ("POST", "/api/v1/carts/<cart_id>/lines"): lambda w: {"sku_id": w["sku"], "quantity": 1},
    ("PATCH", "/api/v1/carts/<cart_id>/lines/<line_id>"): lambda w: {"quantity": 2},
    ("DELETE", "/api/v1/carts/<cart_id>/lines/<line_id>"): None,
    ("POST", "/api/v1/carts/<cart_id>/checkout"): lambda w: {},
    ("POST", "/api/v1/orders/<order_id>/cancel"): lambda w: {},
    ("POST", "/api/v1/orders/<order_id>/fulfil"): None,
    ("POST", "/api/v1/orders/<order_id>/complete"): None,
    ("POST", "/api/v1/orders/<order_id>/payments"): lambda w: {},
    ("POST", "/api/v1/orders/<order_id>/refunds"): lambda w: {"amount": 100, "reason": "damaged"},
    ("POST", "/api/v1/payments/<payment_id>/callback"): lambda w: {"outcome": "succeeded"},
    ("DELETE", "/api/v1/installations/<installation_id>"): None,
    ("PATCH", "/api/v1/webhook-subscriptions/<subscription_id>"): lambda w: {"description": "changed"},
    ("DELETE", "/api/v1/webhook-subscriptions/<subscription_id>"): None,
    ("POST", "/api/v1/webhook-subscriptions/<subscription_id>/rotate-secret"): None,
    ("POST", "/api/v1/webhook-subscriptions/<subscription_id>/test"): None,
    ("POST", "/api/v1/webhook-subscriptions/<subscription_id>/recover"): lambda w: {"since": "2026-01-01T00:00:00Z"},
    ("POST", "/api/v1/webhook-deliveries/<delivery_id>/resend"): None,
    ("PATCH", "/api/v1/plugin-activations/<activation_id>"): lambda w: {"position": 1},
    ("POST", "/api/v1/app/versions/<version_id>/modules"): lambda w: {
        "module": "plugins/x.wasm",
        "module_base64": base64.b64encode(CONSTANT_PLUGIN).decode(),
    },
    ("POST", "/api/v1/customers/<customer_id>/data-requests"): None,
    ("PUT", "/api/v1/market/apps/<app_id>/rating"): lambda w: {"stars": 5, "text": "Great"},
    ("POST", "/api/v1/app/ratings/<rating_id>/reply"): lambda w: {"text": "Thank you"},
    ("POST", "/api/v1/customers/<customer_id>/redactions"): None,
    ("POST", "/api/v1/service-orders/<service_order_id>/requirements"): lambda w: {"requirements": "Our brand"},
    ("POST", "/api/v1/service-orders/<service_order_id>/accept"): None,
    ("POST", "/api/v1/service-orders/<service_order_id>/revision-requests"): lambda w: {"note": "Greener"},
    ("POST", "/api/v1/service-orders/<service_order_id>/cancel"): lambda w: {"reason": "Changed our mind"},
    ("POST", "/api/v1/service-orders/<service_order_id>/extension-answer"): lambda w: {"accept": True},
    ("POST", "/api/v1/service-orders/<service_order_id>/disputes"): lambda w: {"reason": "Nothing delivered"},
    ("POST", "/api/v1/service-orders/<service_order_id>/offers"): lambda w: {"refund": 0},
    ("POST", "/api/v1/service-orders/<service_order_id>/offer-acceptance"): lambda w: {"refund": 0},
    ("POST", "/api/v1/service-orders/<service_order_id>/escalation"): None,
    ("POST", "/api/v1/service-orders/<service_order_id>/messages"): lambda w: {"body": "Hello"},
    ("POST", "/api/v1/service-orders/<service_order_id>/files"): lambda w: {
        "filename": "brief.txt",
        "content_base64": base64.b64encode(b"Green tea").decode(),
    },
    ("POST", "/api/v1/service-orders/<service_order_id>/rating"): lambda w: {"stars": 5},
    ("POST", "/api/v1/billing/subscriptions/<app_subscription_id>/cancel"): None,
    ("POST", "/api/v1/billing/charges/<charge_id>/refunds"): lambda w: {"amount": 100, "reason": "Sorry"},
    ("POST", "/api/v1/requirements/<requirement_id>/cancel"): None,
    ("POST", "/api/v1/requirements/<requirement_id>/pledges"): lambda w: {"amount": 100},
    ("POST", "/api/v1/requirements/<requirement_id>/proposal-votes"): lambda w: {
        "proposal_id": w["requirement_proposal"]
    },
    ("POST", "/api/v1/requirements/<requirement_id>/delivery-votes"): lambda w: {"decision": "accept"},
    ("POST", "/api/v1/requirement-pledges/<pledge_id>/withdraw"): None,
    ("POST", "/api/v1/requirement-proposals/<proposal_id>/accept"): None,
    ("POST", "/api/v1/app/requirement-proposals/<proposal_id>/withdraw"): None,
    ("POST", "/api/v1/app/requirement-proposals/<proposal_id>/start"): None,
    ("POST", "/api/v1/app/requirement-proposals/<proposal_id>/delivery"): lambda w: {
        "app_id": w["app"],
        "app_version_id": w["app_version"],
    },
}

# List endpoints that need query arguments to answer at all.
LIST_QUERIES: dict[str, str] = {
    "/api/v1/reports/sales-trend": "?from=2026-03-01&to=2026-03-03",
    "/api/v1/reports/funnel": "?from=2026-03-01&to=2026-03-03",
    "/api/v1/reports/top-products": "?from=2026-03-01&to=2026-03-03",
    "/api/v1/reports/top-customers": "?from=2026-03-01&to=2026-03-03",
    "/api/v1/reports/period-over-period": "?from=2026-03-01&to=2026-03-03",
}
# List endpoints whose callers are not shops: rule -> how "the other side" authenticates there.
LIST_CALLERS: dict[str, Callable[[Any, Any], dict[str, str]]] = {
    "/api/v1/app": lambda session, now: another_developers_app_token(session, now),
    "/api/v1/app/versions": lambda session, now: another_developers_app_token(session, now),
    "/api/v1/app/listing": lambda session, now: another_developers_app_token(session, now),
    "/api/v1/app/ratings": lambda session, now: another_developers_app_token(session, now),
    # An app asks for its own billing status with its installation token: another shop's app sees "none".
    "/api/v1/billing/subscription": lambda session, now: another_shops_installation_token(session, now),
    "/api/v1/app/requirement-proposals": lambda session, now: another_developers_app_token(session, now),
    "/api/v1/app/webhooks/secret": lambda session, now: another_developers_app_token(session, now),
}
NOT_TENANT_DATA = {"/api/v1/openapi.json", "/api/v1/docs"}  # the API's own description
PATH_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@cache
def api_rules() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(rule, methods) of every /api/v1 route, read from the URL map of a freshly built app."""
    from souk_platform import create_app

    saved = {name: os.environ.get(name) for name in ("SOUK_INSTANCE_PATH", "SOUK_SECRET_KEY")}
    os.environ.update(SOUK_INSTANCE_PATH=tempfile.mkdtemp(prefix="souk-urlmap-"), SOUK_SECRET_KEY="url-map")
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SOUK_REDIS_URL": None, "SOUK_JOBS": "inline"})
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return rules_of(app)


def rules_of(app: Flask) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(
        sorted(
            (rule.rule, tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})))
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api/v1/")
        )
    )


def object_routes() -> list[tuple[str, str]]:
    return [(method, rule) for rule, methods in api_rules() if "<" in rule for method in methods]


def list_routes() -> list[str]:
    return [
        rule for rule, methods in api_rules() if "<" not in rule and "GET" in methods and rule not in NOT_TENANT_DATA
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "object_route" in metafunc.fixturenames:
        routes = object_routes()
        metafunc.parametrize("object_route", routes, ids=[f"{m} {r}" for m, r in routes])
    if "list_route" in metafunc.fixturenames:
        metafunc.parametrize("list_route", list_routes())


def build_shop_a(session: Any, now: Any) -> World:
    """One of everything in a shop, made by the domains' own services, committed."""
    shop = ShopFactory()
    product = create_product(
        session,
        shop_id=shop.id,
        title="Longjing",
        status="active",
        skus=[NewSku(code="TEA-250", title="250g", price=5000, on_hand=10)],
    )
    sku = product.skus[0]
    customer = create_customer(session, shop_id=shop.id, name="王小明", phone="13800000001")
    identity, _ = add_identity(
        session, shop_id=shop.id, customer_id=customer.id, provider="wechat_unionid", external_id="o-union-1"
    )
    benefit_package = create_package(
        session,
        shop_id=shop.id,
        fields={"name": "入会礼", "trigger": "manual", "items": [{"type": "free_shipping", "valid_days": 30}]},
    )
    benefit_grant, _ = grant_package(
        session, package=benefit_package, customer_id=customer.id, period="manual:tenancy", now=now
    )
    session.flush()
    award_points(
        session,
        shop_id=shop.id,
        customer_id=customer.id,
        points=500,
        reason="welcome",
        reference=None,
        dedupe_key=f"welcome:{customer.id}",
        now=now,
    )
    top_up(session, shop_id=shop.id, customer_id=customer.id, amount=10_000, reference=None, dedupe_key="t1")
    tag = create_tag(session, shop_id=shop.id, name="VIP", now=now)
    tag_customers(session, shop_id=shop.id, tag_id=tag.id, customer_ids=[customer.id])
    tag_import = import_tags(session, shop_id=shop.id, csv_text=f"{customer.id},Regular\n", create_missing_tags=True)
    segment = create_segment(
        session,
        shop_id=shop.id,
        name="Level 1",
        description=None,
        condition={"op": "and", "conditions": [{"field": "level", "cmp": "eq", "value": 1}]},
    )
    snapshot = take_snapshot(session, shop_id=shop.id, segment_id=segment.id, name=None, now=now)
    category = create_category(session, shop_id=shop.id, name="Oolong")
    member_price = create_member_price(session, shop_id=shop.id, sku_id=sku.id, level=2, price=4500)
    coupon = create_coupon(
        session,
        shop_id=shop.id,
        fields={
            "code": "TEA10",
            "name": "10 off",
            "kind": "threshold",
            "value": 1000,
            "min_spend": 5000,
            "distribution": "issued",
        },
    )
    issue_coupon(
        session, shop_id=shop.id, coupon_id=coupon.id, customer_id=customer.id, source="api", source_id="t", now=now
    )
    coupon_issue = create_issue(
        session, shop_id=shop.id, coupon_id=coupon.id, customer_ids=[customer.id], segment_id=None, now=now
    )
    coupon_pack = create_pack(
        session,
        shop_id=shop.id,
        fields={"name": "Pack", "price": 990, "items": [{"coupon_id": coupon.id, "quantity": 2}]},
    )
    sold = create_cart(
        session, shop_id=shop.id, customer_id=customer.id, lines=[{"sku_id": sku.id, "quantity": 2}], now=now
    )
    order = checkout(
        session,
        shop_id=shop.id,
        cart_id=sold.id,
        customer_id=customer.id,
        ip=None,
        coupon_codes=[],
        points_to_spend=0,
        stored_value_to_spend=0,
        now=now,
    )
    payment, _ = start_payment(session, shop_id=shop.id, order_id=order.id, now=now)
    settle_payment(session, shop_id=shop.id, payment_id=payment.id, callback={"outcome": "succeeded"}, now=now)
    refund = create_refund(
        session, shop_id=shop.id, order_id=order.id, amount=1000, lines=None, reason="late", restock=False, now=now
    )
    # an order risk control holds for review (any order counts as high-value for a moment), and a list entry
    update_shop(
        session, shop_id=shop.id, changes={"settings": {"risk_new_account_order_min": 1}}, expected_version=None
    )
    held_cart = create_cart(
        session, shop_id=shop.id, customer_id=customer.id, lines=[{"sku_id": sku.id, "quantity": 1}], now=now
    )
    held = checkout(
        session,
        shop_id=shop.id,
        cart_id=held_cart.id,
        customer_id=customer.id,
        ip=None,
        coupon_codes=[],
        points_to_spend=0,
        stored_value_to_spend=0,
        now=now,
    )
    update_shop(
        session, shop_id=shop.id, changes={"settings": {"risk_new_account_order_min": 0}}, expected_version=None
    )
    risk_review = session.scalar(sa.select(RiskReview).where(RiskReview.order_id == held.id))
    risk_entry = create_entry(
        session, shop_id=shop.id, fields={"list": "block", "kind": "device", "value": "dev-a"}, now=now
    )
    points_task = create_task(session, shop_id=shop.id, fields={"name": "晒单", "kind": "post_review", "points": 5})
    points_completion = complete_task(
        session,
        shop=shop,
        task_id=points_task.id,
        customer_id=customer.id,
        reference="r1",
        ip=None,
        device_id=None,
        now=now,
    )
    cart = create_cart(session, shop_id=shop.id, customer_id=customer.id, lines=[], now=now)
    cart = add_cart_line(session, shop_id=shop.id, cart_id=cart.id, sku_id=sku.id, quantity=1, now=now)
    journey = create_from_template(session, shop_id=shop.id, key="birthday_care")
    # Paused with a customer inside, on a version frozen by hand: every journey route reaches it (a draft with
    # customers cannot exist, and deleting one would meet their enrolments).
    journey_version = JourneyVersion(shop_id=shop.id, journey_id=journey.id, number=1, graph=journey.graph)
    session.add(journey_version)
    session.flush()
    journey.current_version_id, journey.status = journey_version.id, "paused"
    enrollment = JourneyEnrollment(
        shop_id=shop.id,
        journey_id=journey.id,
        version_id=journey_version.id,
        customer_id=customer.id,
        entry_key="once",
        status="ready",
        current_node=str(journey.graph.get("entry") or "start"),
        entered_at=now,
    )
    session.add(enrollment)
    session.flush()
    world = {
        "journey": journey.id,
        "journey_enrollment": enrollment.id,
        "shop": shop.id,
        "product": product.id,
        "category": category.id,
        "member_price": member_price.id,
        "sku": sku.id,
        "customer": customer.id,
        "customer_identity": identity.id,
        "benefit_package": benefit_package.id,
        "benefit_grant": benefit_grant.id,
        "journey_template": "birthday_care",
        "tag": tag.id,
        "tag_import": tag_import.id,
        "segment": segment.id,
        "segment_snapshot": snapshot.id,
        "coupon": coupon.id,
        "coupon_issue": coupon_issue.id,
        "coupon_pack": coupon_pack.id,
        "order": order.id,
        "payment": payment.id,
        "refund": refund.id,
        "cart": cart.id,
        "cart_line": cart.lines[0].id,
        "points_account": points_account_id(session, shop_id=shop.id, customer_id=customer.id) or "",
        "risk_review": risk_review.id,
        "risk_decision": risk_review.decision_id,
        "risk_list_entry": risk_entry.id,
        "points_task": points_task.id,
        "points_task_completion": points_completion.id,
    }
    world["app"], world["installation"] = install_an_app(session, shop.id)
    world["app_version"] = session.get(App, world["app"]).current_version_id
    world.update(messaging_world(session, shop.id, customer.id, world["installation"], now))
    world.update(points_mall_world(session, shop.id, customer.id, world["installation"], now))
    world["listen_session"] = open_listen_session(session, app_id=world["app"], now=now).id
    subscription, _secret = create_subscription(
        session,
        shop_id=shop.id,
        url="https://hooks.example.com/souk",
        topics=["order.paid"],
        installation_id=None,
        granted_scopes=None,
        box=runtime_for(current_app).box,
        clock=FrozenClock(now),
    )
    delivery = send_test_event(
        session, shop_id=shop.id, subscription_id=subscription.id, installation_id=None, clock=FrozenClock(now)
    )
    world["webhook_subscription"], world["webhook_delivery"] = subscription.id, delivery.id
    plugin = upload_plugin(session, shop_id=shop.id, name="Constant", point="cart.discounts", module=CONSTANT_PLUGIN)
    activation = create_activation(session, shop_id=shop.id, plugin_id=plugin.id, enabled=False)
    invocation = PluginInvocation(
        shop_id=shop.id,
        plugin_id=plugin.id,
        activation_id=activation.id,
        point="cart.discounts",
        outcome="ok",
        input_sha256="0" * 64,
        input="{}",
        output={"ok": True},
        module_sha256=plugin.sha256,
        created_at=now,
    )
    session.add(invocation)
    session.flush()
    world["plugin"], world["plugin_activation"], world["plugin_invocation"] = plugin.id, activation.id, invocation.id
    session.commit()
    world.update(service_market_world(session, shop, now))
    world.update(billing_world(session, world, now))
    world.update(requirements_world(session, world, now))
    world.update(listings_world(session, world, now))
    return world


def messaging_world(session: Any, shop_id: str, customer_id: str, installation_id: str, now: Any) -> World:
    """The shop's email channel, a template, an inbox message and a message on its app's channel."""
    email, inbox = ensure_built_in_channels(session, shop_id=shop_id)
    app_channel = MessageChannel(shop_id=shop_id, kind="app", name="SMS", key="sms", installation_id=installation_id)
    session.add(app_channel)
    session.flush()
    template = create_template(session, shop_id=shop_id, fields={"name": "Hi", "channel_kind": "inbox", "body": "Hi"})
    sent = [
        send_message(
            session,
            shop_id=shop_id,
            customer_id=customer_id,
            channel_id=channel_id,
            body="Hello {{ customer_name }}",
            source="api",
            idempotency_key=f"tenancy:{channel_id}",
            now=now,
        ).id
        for channel_id in (inbox.id, app_channel.id)
    ]
    return {
        "message_channel": email.id,
        "message_template": template.id,
        "inbox_message": sent[0],
        "message": sent[1],
    }


def make_app(session: Any) -> tuple[App, AppVersion]:
    """A developer's app with one version (the models, as the brief allows)."""
    developer = UserFactory(is_developer=True)
    app = App(developer_id=developer.id, name="Helper", client_id=new_id("cli"), client_type="confidential")
    session.add(app)
    session.flush()
    version = AppVersion(
        app_id=app.id, number=1, manifest={"name": "Helper"}, scopes=list(all_scopes()), redirect_uris=[]
    )
    session.add(version)
    session.flush()
    app.current_version_id = version.id
    return app, version


def install_an_app(session: Any, shop_id: str) -> tuple[str, str]:
    """An app installed on the shop with every scope; returns (app id, installation id)."""
    app, version = make_app(session)
    installation = Installation(
        app_id=app.id, shop_id=shop_id, app_version_id=version.id, granted_scopes=list(all_scopes())
    )
    session.add(installation)
    session.flush()
    return app.id, installation.id


def points_mall_world(session: Any, shop_id: str, customer_id: str, installation_id: str, now: Any) -> World:
    """An item of the shop's app in the points mall, and a customer's redemption of it awaiting the app."""
    item = create_item(
        session,
        shop_id=shop_id,
        fields={
            "kind": "app",
            "installation_id": installation_id,
            "app_item_code": "VIP",
            "title": "VIP",
            "points": 1,
            "status": "on_sale",
        },
    )
    redemption = redeem(
        session,
        shop_id=shop_id,
        item_id=item.id,
        customer_id=customer_id,
        quantity=1,
        ip=None,
        device_id=None,
        now=now,
    )
    return {"points_mall_item": item.id, "points_mall_redemption": redemption.id}


def another_developers_app_token(session: Any, now: Any) -> dict[str, str]:
    """A client-credentials token of an app that has nothing to do with shop A."""
    app, _ = make_app(session)
    _, plaintext = issue_app_token(session, app_id=app.id, now=now)
    session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def app_token_of(session: Any, app_id: str, now: Any) -> dict[str, str]:
    _, plaintext = issue_app_token(session, app_id=app_id, now=now)
    session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def snapshot(session: Any, world: World) -> dict[str, list[tuple[str, ...]]]:
    """Every row that belongs to shop A (its events included), and every row of tables no shop owns."""
    shop_id = world["shop"]
    accounts = sa.select(Base.metadata.tables["ledger_accounts"].c.id).where(
        Base.metadata.tables["ledger_accounts"].c.shop_id == shop_id
    )
    out = {}
    for table in Base.metadata.sorted_tables:
        query = sa.select(table)
        if "shop_id" in table.c:
            query = query.where(table.c.shop_id == shop_id)
        elif table.name == "shops":
            query = query.where(table.c.id == shop_id)
        elif table.name == "ledger_entries":
            query = query.where(table.c.account_id.in_(accounts))
        elif table.name == "idempotency_records":
            query = query.where(table.c.owner.startswith(f"{shop_id}:"))
        out[table.name] = sorted(tuple(map(str, row)) for row in session.execute(query))
    return out


def path_with(rule: str, ids: dict[str, str]) -> str:
    return PATH_VARIABLE.sub(lambda m: ids[m.group(1)], rule)


def call(client: Any, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None) -> Any:
    if method == "POST":  # a fresh key: some writes require one (docs/architecture.md §4.4)
        headers = {**headers, "Idempotency-Key": new_id("tenancy")}
    return client.open(path, method=method, headers=headers, **({} if body is None else {"json": body}))


def test_the_suite_reads_the_same_url_map_as_the_app(app: Flask) -> None:
    assert rules_of(app) == api_rules()
    assert object_routes() and list_routes()


# Object routes no staff token may call (403 before any lookup): only an app may refund its own charge.
APPS_ONLY = {("POST", "/api/v1/billing/charges/<charge_id>/refunds")}


def test_shop_b_cannot_reach_shop_as_object(object_route: tuple[str, str], client, session, clock) -> None:
    method, rule = object_route
    variables = PATH_VARIABLE.findall(rule)
    unknown = [name for name in variables if name not in OBJECTS]
    assert not unknown, f"{rule}: add {unknown} to OBJECTS in {__file__} (and build that object for shop A)"
    if method != "GET":
        assert (method, rule) in BODIES, f"{method} {rule}: add a body shop A's token may send to BODIES"
    make_body = BODIES.get((method, rule))

    world = build_shop_a(session, clock.now())
    missing = [OBJECTS[name] for name in variables if not world.get(OBJECTS[name])]
    assert not missing, f"{rule}: shop A has no {missing}; build it in build_shop_a"
    as_ids = {name: world[OBJECTS[name]] for name in variables}
    random_ids = {name: new_id(as_ids[name].split("_")[0]) for name in variables}
    body = make_body(world) if make_body else None
    # /api/v1/app/... answers app tokens: "shop B" is then another developer's app, and the control A's app.
    by_app = rule.startswith("/api/v1/app/") or (method, rule) in APPS_ONLY
    shop_b = another_developers_app_token(session, clock.now()) if by_app else token_for(ShopFactory(), all_scopes())
    before = snapshot(session, world)
    if (method, rule) in OPEN_TO_EVERY_SHOP:
        reached = call(client, method, path_with(rule, as_ids), shop_b, body)
        assert reached.status_code != 404 and snapshot(session, world) == before, (method, rule, reached.get_json())
        return
    if set(variables) <= PUBLIC_OBJECTS:  # the same catalogue for every shop: B sees what A sees
        seen_by_a = call(client, method, path_with(rule, as_ids), token_for(session.get(Shop, world["shop"])), body)
        seen_by_b = call(client, method, path_with(rule, as_ids), shop_b, body)
        assert seen_by_b.status_code == 200 and seen_by_b.get_json() == seen_by_a.get_json(), rule
        return

    cross = call(client, method, path_with(rule, as_ids), shop_b, body)
    nowhere = call(client, method, path_with(rule, random_ids), shop_b, body)

    assert cross.status_code == 404, (method, rule, cross.status_code, cross.get_json())
    assert (cross.status_code, cross.get_json()["type"]) == (nowhere.status_code, nowhere.get_json()["type"])
    assert snapshot(session, world) == before, f"{method} {rule} with shop B's token changed shop A"

    # The control: the same request with A's own token reaches the objects.
    shop_a = session.get(Shop, world["shop"])
    own_token = app_token_of(session, world["app"], clock.now()) if by_app else token_for(shop_a)
    own = call(client, method, path_with(rule, as_ids), own_token, body)
    assert own.status_code != 404, (method, rule, own.get_json())
    if method == "GET":
        assert own.status_code == 200, (rule, own.get_json())


def test_shop_b_lists_none_of_shop_as_objects(list_route: str, client, session, clock) -> None:
    world = build_shop_a(session, clock.now())
    other_side = LIST_CALLERS.get(list_route)
    shop_b = other_side(session, clock.now()) if other_side else token_for(ShopFactory(), all_scopes())
    response = client.get(list_route + LIST_QUERIES.get(list_route, ""), headers=shop_b)
    assert response.status_code == 200, (list_route, response.get_json())
    text = response.get_data(as_text=True)
    public = {OBJECTS[name] for name in PUBLIC_OBJECTS} | PUBLIC_LIST_ITEMS.get(list_route, set())
    leaked = {name: object_id for name, object_id in world.items() if object_id in text and name not in public}
    assert not leaked, f"{list_route} shows shop A's {leaked} to shop B"
    if list_route.startswith("/api/v1/reports/"):  # figures carry no ids: B must see an empty shop's figures
        empty = client.get(list_route + LIST_QUERIES.get(list_route, ""), headers=token_for(ShopFactory()))
        assert response.get_json() == empty.get_json()

"""Write ``souk_sdk/api.py`` (typed resource methods and TypedDicts) from Souk's OpenAPI document.

After the API changes::

    souk openapi write openapi.json
    python -m souk_sdk._codegen openapi.json

``tests/sdk/test_client_codegen.py`` renders the live app's document and fails while the committed
module differs, so the client cannot drift from the API. Operations missing from ``NAMES`` still get
a method (named by ``_fallback_name``); the command lists them so a person can choose a better name.
The output is already in ``ruff format`` style, so formatting the file changes nothing.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

API_PREFIX = "/api/v1"
_WIDTH = 120
_LONG_LITERAL = 60  # characters; a longer Literal gets a name of its own
_VERBS = ("get", "post", "put", "patch", "delete")
_PAGING = ("limit", "cursor")

#: "<METHOD> <path after /api/v1>" → "<group>.<method>". Paginated lists also get an iterator:
#: ``list`` → ``iter``, ``list_x`` → ``iter_x``.
NAMES: dict[str, str] = {
    "GET /app": "app.get",
    "GET /app/listing": "app.get_listing",
    "POST /app/listing/delist": "app.delist",
    "POST /app/listing/submissions": "app.submit_listing",
    "GET /app/webhooks/secret": "app.get_webhook_secret",
    "POST /app/webhooks/secret/rotate": "app.rotate_webhook_secret",
    "POST /app/webhooks/test": "app.trigger_webhook",
    "DELETE /app/token": "app.revoke_token",
    "POST /app/webhooks/listen-sessions": "app.open_listen_session",
    "GET /app/webhooks/listen-sessions/{listen_session_id}/events": "app.listen_events",
    "GET /app/ratings": "app.list_ratings",
    "POST /app/ratings/{rating_id}/reply": "app.reply_to_rating",
    "GET /app/requirement-proposals": "app.list_proposals",
    "POST /app/requirement-proposals": "app.create_proposal",
    "POST /app/requirement-proposals/{proposal_id}/delivery": "app.deliver_proposal",
    "POST /app/requirement-proposals/{proposal_id}/start": "app.start_proposal",
    "POST /app/requirement-proposals/{proposal_id}/withdraw": "app.withdraw_proposal",
    "GET /app/versions": "app.list_versions",
    "POST /app/versions": "app.create_version",
    "GET /app/versions/{version_id}": "app.get_version",
    "POST /app/versions/{version_id}/modules": "app.upload_module",
    "POST /app/messages/{message_id}/status": "app.report_message_status",
    "POST /app/points-mall/redemptions/{redemption_id}/fulfilment": "app.report_redemption_fulfilment",
    "GET /billing/charges": "billing.list_charges",
    "GET /billing/charges/{charge_id}": "billing.get_charge",
    "POST /billing/charges/{charge_id}/refunds": "billing.refund_charge",
    "GET /billing/invoices": "billing.list_invoices",
    "GET /billing/invoices/{invoice_id}": "billing.get_invoice",
    "POST /billing/one-time-charges": "billing.create_one_time_charge",
    "GET /billing/subscription": "billing.current_subscription",
    "GET /billing/subscriptions": "billing.list_subscriptions",
    "POST /billing/subscriptions": "billing.create_subscription",
    "GET /billing/subscriptions/{app_subscription_id}": "billing.get_subscription",
    "POST /billing/subscriptions/{app_subscription_id}/cancel": "billing.cancel_subscription",
    "POST /billing/usage-records": "billing.record_usage",
    "GET /carts/{cart_id}": "carts.get",
    "POST /carts": "carts.create",
    "POST /carts/{cart_id}/checkout": "carts.checkout",
    "GET /categories": "categories.tree",
    "POST /categories": "categories.create",
    "GET /categories/{category_id}": "categories.get",
    "PATCH /categories/{category_id}": "categories.update",
    "DELETE /categories/{category_id}": "categories.delete",
    "POST /carts/{cart_id}/lines": "carts.add_line",
    "PATCH /carts/{cart_id}/lines/{line_id}": "carts.update_line",
    "DELETE /carts/{cart_id}/lines/{line_id}": "carts.remove_line",
    "GET /benefit-packages": "benefit_packages.list",
    "POST /benefit-packages": "benefit_packages.create",
    "GET /benefit-packages/{package_id}": "benefit_packages.get",
    "PATCH /benefit-packages/{package_id}": "benefit_packages.update",
    "DELETE /benefit-packages/{package_id}": "benefit_packages.delete",
    "POST /benefit-packages/{package_id}/grants": "benefit_packages.grant",
    "GET /benefit-grants": "benefit_grants.list",
    "GET /benefit-grants/{grant_id}": "benefit_grants.get",
    "POST /benefit-grants/{grant_id}/use": "benefit_grants.use",
    "GET /customers/{customer_id}/benefits": "benefit_grants.entitlements",
    "GET /journeys/{journey_id}/enrollments": "journeys.list_enrollments",
    "GET /journeys/{journey_id}/enrollments/{enrollment_id}": "journeys.get_enrollment",
    "POST /journeys/{journey_id}/enrollments/{enrollment_id}/exit": "journeys.exit_enrollment",
    "GET /journeys/{journey_id}/report": "journeys.report",
    "GET /journeys": "journeys.list",
    "POST /journeys": "journeys.create",
    "GET /journeys/{journey_id}": "journeys.get",
    "PATCH /journeys/{journey_id}": "journeys.update",
    "DELETE /journeys/{journey_id}": "journeys.delete",
    "POST /journeys/{journey_id}/activate": "journeys.activate",
    "POST /journeys/{journey_id}/pause": "journeys.pause",
    "POST /journeys/{journey_id}/resume": "journeys.resume",
    "POST /journeys/{journey_id}/archive": "journeys.archive",
    "GET /journeys/{journey_id}/versions": "journeys.list_versions",
    "POST /journeys/{journey_id}/validate": "journeys.validate",
    "GET /journey-templates": "journey_templates.list",
    "GET /journey-templates/{key}": "journey_templates.get",
    "POST /journey-templates/{key}/drafts": "journey_templates.create_draft",
    "GET /message-channels": "message_channels.list",
    "POST /message-channels": "message_channels.create",
    "GET /message-channels/{channel_id}": "message_channels.get",
    "PATCH /message-channels/{channel_id}": "message_channels.update",
    "GET /message-templates": "message_templates.list",
    "POST /message-templates": "message_templates.create",
    "GET /message-templates/{template_id}": "message_templates.get",
    "PATCH /message-templates/{template_id}": "message_templates.update",
    "DELETE /message-templates/{template_id}": "message_templates.delete",
    "POST /message-templates/{template_id}/preview": "message_templates.preview",
    "GET /messages": "messages.list",
    "POST /messages": "messages.send",
    "GET /messages/{message_id}": "messages.get",
    "GET /message-reports": "messages.report",
    "GET /customers/{customer_id}/messages": "messages.list_inbox",
    "POST /customers/{customer_id}/messages/{inbox_message_id}/read": "messages.mark_read",
    "GET /risk/decisions": "risk_decisions.list",
    "GET /risk/decisions/{decision_id}": "risk_decisions.get",
    "GET /risk/lists": "risk_lists.list",
    "POST /risk/lists": "risk_lists.create",
    "GET /risk/lists/{entry_id}": "risk_lists.get",
    "PATCH /risk/lists/{entry_id}": "risk_lists.update",
    "DELETE /risk/lists/{entry_id}": "risk_lists.delete",
    "GET /risk/reviews": "risk_reviews.list",
    "GET /risk/reviews/{review_id}": "risk_reviews.get",
    "POST /risk/reviews/{review_id}/approve": "risk_reviews.approve",
    "POST /risk/reviews/{review_id}/reject": "risk_reviews.reject",
    "GET /risk/settings": "risk_settings.get",
    "PUT /risk/settings": "risk_settings.update",
    "GET /risk/dashboard": "risk_dashboard.get",
    "POST /risk/replay": "risk_decisions.replay",
    "GET /coupons": "coupons.list",
    "POST /coupons": "coupons.create",
    "POST /coupons/preview": "coupons.preview",
    "GET /coupons/{coupon_id}": "coupons.get",
    "PATCH /coupons/{coupon_id}": "coupons.update",
    "DELETE /coupons/{coupon_id}": "coupons.delete",
    "GET /coupons/{coupon_id}/redemptions": "coupons.list_redemptions",
    "GET /customers/{customer_id}/coupons": "coupons.list_wallet",
    "POST /customers/{customer_id}/coupons": "coupons.claim",
    "GET /coupons/{coupon_id}/issues": "coupons.list_issues",
    "POST /coupons/{coupon_id}/issues": "coupons.issue",
    "GET /coupons/{coupon_id}/issues/{issue_id}": "coupons.get_issue",
    "GET /coupons/{coupon_id}/issues/{issue_id}/results": "coupons.list_issue_results",
    "GET /coupon-packs": "coupon_packs.list",
    "POST /coupon-packs": "coupon_packs.create",
    "GET /coupon-packs/{pack_id}": "coupon_packs.get",
    "PATCH /coupon-packs/{pack_id}": "coupon_packs.update",
    "GET /coupon-packs/{pack_id}/purchases": "coupon_packs.list_purchases",
    "POST /coupon-packs/{pack_id}/purchases": "coupon_packs.purchase",
    "GET /customer-events": "customer_events.list",
    "POST /customer-events": "customer_events.record",
    "GET /customers": "customers.list",
    "POST /customers": "customers.create",
    "GET /customers/{customer_id}": "customers.get",
    "PATCH /customers/{customer_id}": "customers.update",
    "POST /customers/{customer_id}/data-requests": "customers.request_data",
    "POST /customers/{customer_id}/redactions": "customers.redact",
    "GET /customers/{customer_id}/identities": "customers.list_identities",
    "POST /customers/{customer_id}/identities": "customers.add_identity",
    "DELETE /customers/{customer_id}/identities/{identity_id}": "customers.remove_identity",
    "GET /events": "events.list",
    "GET /installations": "installations.list",
    "GET /installations/{installation_id}": "installations.get",
    "DELETE /installations/{installation_id}": "installations.uninstall",
    "GET /ledger/accounts": "ledger.list_accounts",
    "GET /market/apps": "market.list_apps",
    "GET /market/apps/{app_ref}": "market.get_app",
    "GET /market/apps/{app_id}/rating": "market.get_rating",
    "PUT /market/apps/{app_id}/rating": "market.rate_app",
    "GET /ledger/accounts/{account_id}/entries": "ledger.list_entries",
    "GET /member-levels": "members.get_levels",
    "PUT /member-levels": "members.set_levels",
    "GET /member-prices": "member_prices.list",
    "POST /member-prices": "member_prices.create",
    "GET /member-prices/{member_price_id}": "member_prices.get",
    "PATCH /member-prices/{member_price_id}": "member_prices.update",
    "DELETE /member-prices/{member_price_id}": "member_prices.delete",
    "GET /customers/{customer_id}/level-history": "members.list_level_history",
    "POST /customers/{customer_id}/level": "members.set_level",
    "POST /customers/{customer_id}/level/evaluate": "members.evaluate_level",
    "GET /orders": "orders.list",
    "GET /orders/{order_id}": "orders.get",
    "POST /orders/{order_id}/cancel": "orders.cancel",
    "POST /orders/{order_id}/complete": "orders.complete",
    "POST /orders/{order_id}/fulfil": "orders.fulfil",
    "POST /orders/{order_id}/payments": "payments.create",
    "POST /payments/{payment_id}/callback": "payments.callback",
    "POST /orders/{order_id}/refunds": "refunds.create",
    "GET /customers/{customer_id}/points": "points.get",
    "GET /customers/{customer_id}/points/history": "points.list_history",
    "POST /customers/{customer_id}/points/adjustments": "points.adjust",
    "GET /points/policy": "points.get_policy",
    "PUT /points/policy": "points.update_policy",
    "GET /points/liability": "points.liability",
    "GET /customers/{customer_id}/sign-ins": "points_tasks.sign_in_calendar",
    "POST /customers/{customer_id}/sign-ins": "points_tasks.sign_in",
    "GET /plugin-activations": "plugin_activations.list",
    "POST /plugin-activations": "plugin_activations.create",
    "GET /plugin-activations/{activation_id}": "plugin_activations.get",
    "PATCH /plugin-activations/{activation_id}": "plugin_activations.update",
    "GET /plugin-invocations": "plugin_invocations.list",
    "GET /plugin-invocations/{invocation_id}": "plugin_invocations.get",
    "GET /plugin-invocations/{invocation_id}/export": "plugin_invocations.export",
    "GET /plugins": "plugins.list",
    "POST /plugins": "plugins.upload",
    "GET /plugins/{plugin_id}": "plugins.get",
    "GET /plugins/{plugin_id}/health": "plugins.health",
    "GET /products": "products.list",
    "POST /products": "products.create",
    "GET /products/{product_id}": "products.get",
    "PATCH /products/{product_id}": "products.update",
    "DELETE /products/{product_id}": "products.delete",
    "POST /products/{product_id}/skus": "skus.create",
    "GET /reports/funnel": "reports.funnel",
    "GET /requirement-pledges": "requirements.list_pledges",
    "GET /requirement-pledges/{pledge_id}": "requirements.get_pledge",
    "POST /requirement-pledges/{pledge_id}/withdraw": "requirements.withdraw_pledge",
    "POST /requirement-proposals/{proposal_id}/accept": "requirements.accept_proposal",
    "GET /requirements": "requirements.list",
    "POST /requirements": "requirements.create",
    "GET /requirements/{requirement_id}": "requirements.get",
    "POST /requirements/{requirement_id}/cancel": "requirements.cancel",
    "POST /requirements/{requirement_id}/delivery-votes": "requirements.vote_on_delivery",
    "POST /requirements/{requirement_id}/pledges": "requirements.pledge",
    "POST /requirements/{requirement_id}/proposal-votes": "requirements.vote_for_proposal",
    "GET /reports/period-over-period": "reports.period_over_period",
    "GET /reports/sales-trend": "reports.sales_trend",
    "GET /reports/top-customers": "reports.top_customers",
    "GET /reports/top-products": "reports.top_products",
    "GET /segment-fields": "segment_fields.list",
    "GET /segments": "segments.list",
    "POST /segments": "segments.create",
    "POST /segments/estimate": "segments.estimate",
    "GET /segments/{segment_id}": "segments.get",
    "PATCH /segments/{segment_id}": "segments.update",
    "DELETE /segments/{segment_id}": "segments.delete",
    "GET /segments/{segment_id}/customers": "segments.list_customers",
    "GET /segments/{segment_id}/snapshots": "segments.list_snapshots",
    "POST /segments/{segment_id}/snapshots": "segments.create_snapshot",
    "GET /segment-snapshots": "segment_snapshots.list",
    "GET /segment-snapshots/{snapshot_id}": "segment_snapshots.get",
    "DELETE /segment-snapshots/{snapshot_id}": "segment_snapshots.delete",
    "GET /segment-snapshots/{snapshot_id}/customers": "segment_snapshots.list_customers",
    "GET /service-orders": "service_orders.list",
    "POST /service-orders": "service_orders.create",
    "GET /service-orders/{service_order_id}": "service_orders.get",
    "POST /service-orders/{service_order_id}/accept": "service_orders.accept",
    "POST /service-orders/{service_order_id}/cancel": "service_orders.cancel",
    "POST /service-orders/{service_order_id}/disputes": "service_orders.dispute",
    "POST /service-orders/{service_order_id}/escalation": "service_orders.escalate",
    "POST /service-orders/{service_order_id}/extension-answer": "service_orders.answer_extension",
    "POST /service-orders/{service_order_id}/files": "service_orders.attach_file",
    "GET /service-orders/{service_order_id}/files/{service_file_id}": "service_orders.download_file",
    "POST /service-orders/{service_order_id}/messages": "service_orders.send_message",
    "POST /service-orders/{service_order_id}/offer-acceptance": "service_orders.accept_offer",
    "POST /service-orders/{service_order_id}/offers": "service_orders.offer_split",
    "POST /service-orders/{service_order_id}/rating": "service_orders.rate",
    "POST /service-orders/{service_order_id}/requirements": "service_orders.send_requirements",
    "POST /service-orders/{service_order_id}/revision-requests": "service_orders.request_revision",
    "GET /service-orders/{service_order_id}/timeline": "service_orders.list_timeline",
    "GET /service-providers/{provider_id}": "services.get_provider",
    "GET /services": "services.list",
    "GET /services/{service_id}": "services.get",
    "GET /shop": "shop.get",
    "PATCH /shop": "shop.update",
    "GET /shop/staff": "shop.list_staff",
    "GET /skus/{sku_id}": "skus.get",
    "PATCH /skus/{sku_id}": "skus.update",
    "GET /skus/{sku_id}/inventory-adjustments": "skus.list_adjustments",
    "POST /skus/{sku_id}/inventory-adjustments": "skus.adjust_stock",
    "GET /customers/{customer_id}/stored-value": "stored_value.get",
    "POST /customers/{customer_id}/stored-value/top-ups": "stored_value.top_up",
    "GET /customers/{customer_id}/cashback": "stored_value.list_cashback",
    "GET /tag-imports": "tag_imports.list",
    "POST /tag-imports": "tag_imports.create",
    "GET /tag-imports/{import_id}": "tag_imports.get",
    "GET /tags": "tags.list",
    "POST /tags": "tags.create",
    "GET /tags/{tag_id}": "tags.get",
    "PATCH /tags/{tag_id}": "tags.update",
    "DELETE /tags/{tag_id}": "tags.delete",
    "POST /tags/{tag_id}/customers": "tags.add_customers",
    "DELETE /tags/{tag_id}/customers/{customer_id}": "tags.remove_customer",
    "POST /tags/{tag_id}/evaluate": "tags.evaluate",
    "GET /webhook-deliveries": "webhook_deliveries.list",
    "GET /webhook-deliveries/{delivery_id}": "webhook_deliveries.get",
    "POST /webhook-deliveries/{delivery_id}/resend": "webhook_deliveries.resend",
    "GET /webhook-subscriptions": "webhook_subscriptions.list",
    "POST /webhook-subscriptions": "webhook_subscriptions.create",
    "GET /webhook-subscriptions/{subscription_id}": "webhook_subscriptions.get",
    "PATCH /webhook-subscriptions/{subscription_id}": "webhook_subscriptions.update",
    "DELETE /webhook-subscriptions/{subscription_id}": "webhook_subscriptions.delete",
    "POST /webhook-subscriptions/{subscription_id}/recover": "webhook_subscriptions.recover",
    "POST /webhook-subscriptions/{subscription_id}/rotate-secret": "webhook_subscriptions.rotate_secret",
    "POST /webhook-subscriptions/{subscription_id}/test": "webhook_subscriptions.test",
}

# Names the generated module defines or imports itself: a schema may not take one of them.
_RESERVED = {"Any", "ApiResources", "Iterator", "Literal", "Mapping", "OPERATIONS", "Protocol", "Requester"}
_RESERVED |= {"Required", "TypedDict", "builtins", "cast", "datetime"}


class SpecError(ValueError):
    """The document has something the generator cannot turn into Python."""


@dataclass
class _Param:
    name: str  # as the API spells it
    python: str  # the keyword argument
    annotation: str
    required: bool
    description: str = ""


@dataclass
class _Operation:
    verb: str
    path: str
    group: str
    name: str
    summary: str
    scopes: list[str]
    path_params: list[_Param]
    query: list[_Param]
    headers: list[_Param]
    body: str | None
    body_required: bool
    returns: str
    page_item: str | None
    idempotent: bool
    if_match: bool
    raw: bool = False
    named: bool = True


@dataclass
class _Group:
    name: str
    description: str
    operations: list[_Operation] = field(default_factory=list)


def render(spec: Mapping[str, Any]) -> str:
    """The source of ``souk_sdk/api.py`` for the OpenAPI document ``spec``."""
    return _Renderer(spec).render()


def unnamed_operations(spec: Mapping[str, Any]) -> list[str]:
    """Operations of ``spec`` that ``NAMES`` does not name (they get a derived name)."""
    renderer = _Renderer(spec)
    return [f"{op.verb.upper()} {op.path} → {op.group}.{op.name}" for op in renderer.operations() if not op.named]


class _Renderer:
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.schemas: Mapping[str, Any] = spec.get("components", {}).get("schemas", {})
        self.aliases: dict[tuple[Any, ...], str] = {}
        clash = _RESERVED & set(self.schemas)
        if clash:
            raise SpecError(f"schema names clash with the module's own names: {sorted(clash)}")

    # -- reading the document -------------------------------------------------------------------

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[_ref_name(schema["$ref"])]
        return schema

    def annotation(self, schema: Mapping[str, Any], *, list_type: str = "list", hint: str = "") -> str:
        """A Python annotation for a JSON Schema (``list_type`` is ``builtins.list`` in resource classes).

        A long ``Literal`` becomes a module-level alias named after ``hint`` (``RequirementState``).
        """
        if "$ref" in schema:
            return _ref_name(schema["$ref"])
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                return _union(self.annotation(s, list_type=list_type, hint=hint) for s in schema[combinator])
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.annotation(schema["allOf"][0], list_type=list_type, hint=hint)
        if "const" in schema:
            return f"Literal[{_literal(schema['const'])}]"
        if "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            nullable = None in schema["enum"] or "null" in _types(schema)
            parts = [self._literal_type(values, hint)] if values else []
            return _union([*parts, "None"] if nullable else parts)
        types = _types(schema)
        if not types:
            return "Any"
        return _union(self._simple(t, schema, list_type, hint) for t in types)

    def _literal_type(self, values: list[Any], hint: str) -> str:
        inline = f"Literal[{', '.join(_literal(v) for v in values)}]"
        if len(inline) <= _LONG_LITERAL or not hint:
            return inline
        key = tuple(values)
        if key not in self.aliases:
            name, number = hint, 1
            while name in self.schemas or name in _RESERVED or name in self.aliases.values():
                number += 1
                name = f"{hint}{number}"
            self.aliases[key] = name
        return self.aliases[key]

    def _simple(self, json_type: str, schema: Mapping[str, Any], list_type: str, hint: str) -> str:
        if json_type == "array":
            return f"{list_type}[{self.annotation(schema.get('items', {}), list_type=list_type, hint=hint)}]"
        if json_type == "object":
            extra = schema.get("additionalProperties")
            value = self.annotation(extra, list_type=list_type) if isinstance(extra, Mapping) and extra else "Any"
            return f"dict[str, {value}]"
        return {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}[json_type]

    def operations(self) -> list[_Operation]:
        found = []
        for path, item in self.spec.get("paths", {}).items():
            if not path.startswith(API_PREFIX + "/"):
                continue
            shared = item.get("parameters", [])
            for verb in _VERBS:
                if verb in item:
                    found.append(self._operation(path, verb, item[verb], shared))
        found.sort(key=lambda op: (op.group, op.path, _VERBS.index(op.verb)))
        taken: dict[tuple[str, str], _Operation] = {}
        for op in found:
            for name in (op.name, *_iterator_names(op)):
                other = taken.setdefault((op.group, name), op)
                if other is not op:
                    raise SpecError(f"two operations are named {op.group}.{name}: {other.path} and {op.path}")
        return found

    def _operation(self, path: str, verb: str, op: Mapping[str, Any], shared: list[Any]) -> _Operation:
        short = path.removeprefix(API_PREFIX)
        params = {(p["in"], p["name"]): p for p in (self.resolve(p) for p in [*shared, *op.get("parameters", [])])}
        path_params, query, headers = [], [], []
        idempotent = False
        for (where, raw_name), param in params.items():
            built = _Param(
                name=raw_name,
                python=_identifier(raw_name),
                annotation=self._param_annotation(param.get("schema", {}), where, hint=_camel(short, raw_name)),
                required=bool(param.get("required")) or where == "path",
                description=param.get("description", ""),
            )
            if where == "path":
                path_params.append(built)
            elif where == "query":
                query.append(built)
            elif where == "header" and raw_name.lower() == "idempotency-key":
                idempotent = True
            elif where == "header":
                headers.append(built)
        order = re.findall(r"{([^}]+)}", short)
        path_params.sort(key=lambda p: order.index(p.name))
        query.sort(key=lambda p: (p.name in _PAGING, p.name == "cursor"))

        body, body_required = None, False
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            schema = content["application/json"].get("schema", {})
            body = self.annotation(schema, list_type="builtins.list")
            body_required = bool(self.resolve(schema).get("required"))

        returns, page_item, raw = "None", None, False
        for status in ("200", "201", "202", "203", "204"):
            response = op.get("responses", {}).get(status)
            if response is None:
                continue
            answer = self.resolve(response).get("content", {})
            schema = answer.get("application/json", {}).get("schema")
            if schema is not None:
                returns = self.annotation(schema, list_type="builtins.list")
                props = self.resolve(schema).get("properties", {})
                if "next_cursor" in props and "items" in props and any(q.name == "cursor" for q in query):
                    page_item = self.annotation(props["items"].get("items", {}), list_type="builtins.list")
            elif answer:  # a file, not JSON: the method returns its bytes
                returns, raw = "bytes", True
            break

        chosen = NAMES.get(f"{verb.upper()} {short}")
        group, name = chosen.split(".") if chosen else _fallback_name(verb, short, paginated=page_item is not None)
        scopes = sorted({s for requirement in op.get("security", []) for ss in requirement.values() for s in ss})
        taken = {"self", "body", "idempotency_key", "if_match"}
        for argument in [*path_params, *query, *headers]:
            if argument.python in taken:
                raise SpecError(f"{verb.upper()} {path}: parameter {argument.name!r} clashes with another argument")
            taken.add(argument.python)
        return _Operation(
            verb=verb,
            path=path,
            group=group,
            name=name,
            summary=(op.get("summary") or op.get("description") or "").strip(),
            scopes=scopes,
            path_params=path_params,
            query=query,
            headers=headers,
            body=body,
            body_required=body_required,
            returns=returns,
            page_item=page_item,
            idempotent=idempotent,
            if_match="412" in op.get("responses", {}),
            raw=raw,
            named=chosen is not None,
        )

    def _param_annotation(self, schema: Mapping[str, Any], where: str, *, hint: str) -> str:
        annotation = self.annotation(schema, list_type="builtins.list", hint=hint)
        if where == "query":  # dates may be given as date objects; the client sends them ISO 8601
            fmt = self.resolve(schema).get("format")
            if fmt == "date":
                annotation = annotation.replace("str", "str | datetime.date", 1)
            elif fmt == "date-time":
                annotation = annotation.replace("str", "str | datetime.datetime", 1)
        return annotation

    def groups(self) -> list[_Group]:
        tags = {t["name"]: t.get("description", "") for t in self.spec.get("tags", [])}
        groups: dict[str, _Group] = {}
        for op in self.operations():
            group = groups.setdefault(op.group, _Group(op.group, ""))
            group.operations.append(op)
        for group in groups.values():
            first = self.spec["paths"][group.operations[0].path][group.operations[0].verb]
            tag = (first.get("tags") or [""])[0]
            group.description = tags.get(tag, "") or group.name.replace("_", " ").capitalize()
        return sorted(groups.values(), key=lambda g: g.name)

    # -- writing the module ---------------------------------------------------------------------

    def render(self) -> str:
        groups = self.groups()
        out = [self._typed_dict(name, self.resolve(self.schemas[name])) for name in sorted(self.schemas)]
        out.append(_REQUESTER)
        out += [self._resource(group) for group in groups]
        out.append(self._api_resources(groups))
        out.append(self._operations_table(groups))
        aliases = [self._alias(values, name) for values, name in sorted(self.aliases.items(), key=lambda a: a[1])]
        head = _preamble([*aliases, *out])
        if aliases:
            head += "\n\n" + "\n".join(aliases)
        return "\n\n\n".join([head, *out]).rstrip() + "\n"

    def _typed_dict(self, name: str, schema: Mapping[str, Any]) -> str:
        properties: Mapping[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = []
        for prop, prop_schema in properties.items():
            annotation = self.annotation(prop_schema, hint=name + _camel(prop))
            fields.append((prop, f"Required[{annotation}]" if prop in required else annotation))
        if all(p.isidentifier() and not keyword.iskeyword(p) for p, _ in fields):
            lines = [f"class {name}(TypedDict, total=False):"]
            if schema.get("description"):
                lines += [_docstring(schema["description"], indent=4), ""]
            for prop, annotation in fields:
                described = properties[prop].get("description")
                if described:
                    lines.append(_docstring_comment(described, indent=4))
                lines.append(f"    {prop}: {annotation}")
            if not fields:
                lines.append("    pass")
            return "\n".join(lines)
        # A field that is no Python identifier needs the functional syntax.
        # Quoted, as these annotations are evaluated at import time and may name later classes.
        quoted = [(prop, _literal(annotation)) for prop, annotation in fields]
        call = _Brackets("TypedDict(", [_literal(name), _dict("", quoted), "total=False"], ")")
        comment = _docstring_comment(schema.get("description") or "")
        return (comment + "\n" if comment else "") + _lay(call, 0, prefix=f"{name} = ")

    def _alias(self, values: tuple[Any, ...], name: str) -> str:
        return _lay(_Brackets("Literal[", [_literal(v) for v in values], "]"), 0, prefix=f"{name} = ")

    def _resource(self, group: _Group) -> str:
        lines = [
            f"class {_class_name(group.name)}:",
            _docstring(f"{group.description} (``client.{group.name}``).", indent=4),
            "",
            "    def __init__(self, requester: Requester) -> None:",
            "        self._requester = requester",
        ]
        for op in group.operations:
            lines += ["", self._method(op)]
            if op.page_item is not None:
                lines += ["", self._iterator(op)]
        return "\n".join(lines)

    def _signature(self, op: _Operation, *, paging: bool) -> list[str]:
        params = ["self", *(f"{p.python}: str" for p in op.path_params)]
        if op.body is not None:
            params.append(f"body: {op.body}" if op.body_required else f"body: {op.body} | None = None")
        keywords = []
        for p in op.query:
            if paging and p.name == "cursor":
                continue
            keywords.append(f"{p.python}: {p.annotation}" if p.required else f"{p.python}: {_optional(p.annotation)}")
        for p in op.headers:
            keywords.append(f"{p.python}: {_optional(p.annotation)}")
        if op.idempotent:
            keywords.append("idempotency_key: str | None = None")
        if op.if_match:
            keywords.append("if_match: int | str | None = None")
        keywords.sort(key=lambda k: "=" in k)  # required keywords first
        return [*params, "*", *keywords] if keywords else params

    def _method(self, op: _Operation) -> str:
        signature = _lay(_Brackets(f"def {op.name}(", self._signature(op, paging=False), f") -> {op.returns}:"), 4)
        notes = [f"``{op.verb.upper()} {op.path}``"]
        if op.scopes:
            notes.append("scope " + ", ".join(f"``{s}``" for s in op.scopes))
        extra = []
        if op.idempotent:
            extra.append("Retries reuse one ``Idempotency-Key``: yours, or a generated one.")
        extra += [f"``{p.python}``: {p.description}" for p in op.query if p.description and p.name not in _PAGING]
        if op.if_match:
            extra.append("``if_match``: the ``version`` you read; a stale one raises ``PreconditionFailed``.")
        summary = op.summary or op.name.replace("_", " ").capitalize()
        summary += "" if summary.endswith((".", "?", "!", ")")) else "."
        doc = _docstring(summary, indent=8, extra=[" · ".join(notes), *extra])
        args: list[str | _Brackets] = [_literal(op.verb.upper()), _literal(op.path)]
        if op.path_params:
            args.append(_dict("path_params=", ((p.name, p.python) for p in op.path_params)))
        if op.query:
            args.append(_dict("query=", ((p.name, p.python) for p in op.query)))
        if op.body is not None:
            args.append("body=body")
        if op.headers:
            args.append(_dict("headers=", ((p.name, p.python) for p in op.headers)))
        if op.idempotent:
            args += ["idempotency_key=idempotency_key", "auto_idempotency_key=True"]
        if op.if_match:
            args.append("if_match=if_match")
        if op.raw:
            args.append("raw=True")
        call = _Brackets("self._requester.request(", args, ")")
        if op.returns == "None":
            body = _lay(call, 8)
        else:
            body = _lay(call, 8, prefix="response = ") + f"\n        return cast({op.returns}, response)"
        return "\n".join([signature, doc, body])

    def _iterator(self, op: _Operation) -> str:
        name = _iterator_names(op)[0]
        head = f"def {name}("
        signature = _lay(_Brackets(head, self._signature(op, paging=True), f") -> Iterator[{op.page_item}]:"), 4)
        doc = _docstring(
            f"Every item of ``{op.name}``, fetching page after page (``limit`` items each) by ``next_cursor``.",
            indent=8,
        )
        args: list[str | _Brackets] = [_literal(op.path)]
        if op.path_params:
            args.append(_dict("path_params=", ((p.name, p.python) for p in op.path_params)))
        query = [(p.name, p.python) for p in op.query if p.name != "cursor"]
        if query:
            args.append(_dict("query=", query))
        iterate = _lay(_Brackets("self._requester.iterate(", args, ")"), 8, prefix="return ")
        return "\n".join([signature, doc, iterate])

    def _api_resources(self, groups: Sequence[_Group]) -> str:
        lines = [
            "class ApiResources:",
            '    """Every resource group of the API as an attribute; ``souk_sdk.Client`` is one."""',
            "",
            "    def __init__(self, requester: Requester) -> None:",
        ]
        lines += [f"        self.{g.name} = {_class_name(g.name)}(requester)" for g in groups]
        return "\n".join(lines)

    def _operations_table(self, groups: Sequence[_Group]) -> str:
        lines = [
            "#: (HTTP method, path, client method) for every operation, iterators included.",
            "OPERATIONS: tuple[tuple[str, str, str], ...] = (",
        ]
        for group in groups:
            for op in group.operations:
                for name in (op.name, *_iterator_names(op)):
                    verb, path, method = _literal(op.verb.upper()), _literal(op.path), _literal(f"{group.name}.{name}")
                    lines.append(_lay(_Brackets("(", [verb, path, method], ")"), 4, suffix=","))
        lines.append(")")
        return "\n".join(lines)


def _preamble(code: Sequence[str]) -> str:
    """The docstring and the imports the generated ``code`` uses."""
    text = "\n".join(code)

    def used(name: str) -> bool:
        return re.search(rf"\b{re.escape(name)}\b", text) is not None

    modules = [f"import {m}" for m in ("builtins", "datetime") if used(m + ".")]
    abc = [n for n in ("Iterator", "Mapping") if used(n)]
    typing = [n for n in ("Any", "Literal", "Protocol", "Required", "TypedDict", "cast") if used(n)]
    imports = [*modules, f"from collections.abc import {', '.join(abc)}", f"from typing import {', '.join(typing)}"]
    return _DOCSTRING + "\n\nfrom __future__ import annotations\n\n" + "\n".join(imports)


_DOCSTRING = '''"""Souk's public API as typed Python: a resource class per group, a TypedDict per schema.

Generated by ``python -m souk_sdk._codegen`` from ``/api/v1/openapi.json``: do not edit by hand.
Responses are plain dicts at runtime; the TypedDicts only tell type checkers and editors their keys.
"""'''

_REQUESTER = '''class Requester(Protocol):
    """What a resource needs from the client: one call, and the items of a paginated list."""

    def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        auto_idempotency_key: bool = False,
        if_match: int | str | None = None,
        raw: bool = False,
    ) -> Any: ...

    def iterate(
        self, path: str, *, path_params: Mapping[str, str] | None = None, query: Mapping[str, Any] | None = None
    ) -> Iterator[Any]: ...'''


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return ["object"] if "properties" in schema or "additionalProperties" in schema else []
    return [declared] if isinstance(declared, str) else list(declared)


def _union(parts: Iterable[str]) -> str:
    seen: list[str] = []
    for part in parts:
        for piece in part.split(" | ") if "[" not in part else [part]:
            if piece not in seen:
                seen.append(piece)
    if "Any" in seen:
        return "Any"
    if "None" in seen:  # None last, as people write it
        seen = [p for p in seen if p != "None"] + ["None"]
    return " | ".join(seen) or "Any"


def _optional(annotation: str) -> str:
    nullable = annotation.endswith("None") or annotation == "Any"
    return annotation + " = None" if nullable else annotation + " | None = None"


def _literal(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


def _identifier(name: str) -> str:
    python = re.sub(r"\W", "_", name).lower()
    if python[:1].isdigit():
        python = "_" + python
    return python + "_" if keyword.iskeyword(python) else python


def _camel(*words: str) -> str:
    """``("/service-orders/{id}", "state")`` → ``ServiceOrdersState`` (the first path word and the name)."""
    first = words[0].strip("/").split("/")[0] if words[0].startswith("/") else words[0]
    parts = [first, *words[1:]]
    return "".join(piece.capitalize() for part in parts for piece in re.split(r"[^0-9A-Za-z]+", part) if piece)


def _class_name(group: str) -> str:
    return "".join(part.capitalize() for part in group.split("_")) + "Resource"


def _iterator_names(op: _Operation) -> list[str]:
    if op.page_item is None:
        return []
    if op.name == "list":
        return ["iter"]
    return ["iter_" + op.name.removeprefix("list_")]


def _fallback_name(verb: str, short: str, *, paginated: bool) -> tuple[str, str]:
    """A name for an operation ``NAMES`` lacks: the group is the first path word, the name says the rest.

    ``GET /things`` → things.list, ``GET /things/{id}/parts/{part_id}`` → things.get_part,
    ``POST /things/{id}/ship`` → things.ship, ``POST /things/{id}/notes`` → things.create_note.
    """
    segments = [s for s in short.strip("/").split("/") if s]
    words: list[str] = []
    for number, segment in enumerate(segments[1:], start=1):
        if not segment.startswith("{"):
            before_id = number + 1 < len(segments) and segments[number + 1].startswith("{")
            words.append(_singular(_identifier(segment)) if before_id else _identifier(segment))
    if verb == "get":
        action = "list" if paginated else "get"
    elif verb in ("put", "patch", "delete"):
        action = {"put": "set", "patch": "update", "delete": "delete"}[verb]
    elif not words or segments[-1].startswith("{") or words[-1].endswith("s"):
        action, words = "create", [*words[:-1], _singular(words[-1])] if words else words
    else:
        action, words = words[-1], words[:-1]
    return _identifier(segments[0]), "_".join([action, *words])


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


@dataclass(frozen=True)
class _Brackets:
    """``head item, item tail``: a call, a signature or a literal that may be split over lines."""

    head: str
    items: Sequence[str | _Brackets]
    tail: str


def _flat(node: str | _Brackets) -> str:
    if isinstance(node, str):
        return node
    return node.head + ", ".join(_flat(item) for item in node.items) + node.tail


def _lay(node: str | _Brackets, indent: int, prefix: str = "", suffix: str = "") -> str:
    """Lay ``node`` out as ``ruff format`` would: on one line, its items hugged on one line, or one per line."""
    pad = " " * indent
    one_line = pad + prefix + _flat(node) + suffix
    if len(one_line) <= _WIDTH or isinstance(node, str):
        return one_line
    inner = " " * (indent + 4)
    hugged = inner + ", ".join(_flat(item) for item in node.items)
    # ruff hugs a call's arguments on one line, never a dict's items (it puts each on its own line).
    if len(hugged) <= _WIDTH and not node.head.endswith("{"):
        return f"{pad}{prefix}{node.head}\n{hugged}\n{pad}{node.tail}{suffix}"
    lines = [pad + prefix + node.head, *(_lay(item, indent + 4, suffix=",") for item in node.items)]
    return "\n".join([*lines, pad + node.tail + suffix])


def _dict(head: str, pairs: Iterable[tuple[str, str]]) -> _Brackets:
    return _Brackets(head + "{", [f"{_literal(k)}: {v}" for k, v in pairs], "}")


def _docstring(text: str, *, indent: int, extra: Sequence[str] = ()) -> str:
    pad = " " * indent
    paragraphs = [_clean(text), *(_clean(e) for e in extra)]
    first = paragraphs[0]
    if len(paragraphs) == 1 and len(pad) + len(first) + 6 <= _WIDTH:
        return f'{pad}"""{first}"""'
    lines = []
    for number, paragraph in enumerate(paragraphs):
        if number:
            lines.append("")
        width = _WIDTH - indent - (3 if number == 0 else 0)
        lines += textwrap.wrap(paragraph, width=width, break_long_words=False, break_on_hyphens=False) or [""]
    body = "\n".join(pad + line if line else "" for line in lines)
    return f'{pad}"""{body.lstrip()}\n{pad}"""'


def _docstring_comment(text: str, indent: int = 0) -> str:
    pad, text = " " * indent, " ".join(text.split())
    return "\n".join(f"{pad}#: {line}" for line in textwrap.wrap(text, width=_WIDTH - 3 - indent)) if text else ""


def _clean(text: str) -> str:
    text = " ".join(text.replace("\\", "\\\\").split())
    return text.replace('"""', '\\"\\"\\"').rstrip('"') or "-"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m souk_sdk._codegen", description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="the OpenAPI JSON file ('souk openapi write openapi.json')")
    parser.add_argument("-o", "--output", default=str(Path(__file__).with_name("api.py")), help="default: %(default)s")
    args = parser.parse_args(argv)
    spec = json.loads(Path(args.spec).read_text(encoding="utf-8"))
    Path(args.output).write_text(render(spec), encoding="utf-8")
    print(f"wrote {args.output}")
    for line in unnamed_operations(spec):
        print(f"  named by rule (add it to NAMES for a better name): {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The extension-point table and the one function that runs a point.

Each point's policies live in ``EXTENSION_POINTS``: its merge rule (how plugin outputs combine with
the built-in rule's result, converted to the same Python shape the built-in returns) and its failure
policy. Its input and output JSON Schemas (draft 2020-12; a plugin receives the input plus its
activation's ``config`` and must return the output) live in ``souk_sandbox.points``, shared with the
dev kit so both judge a plugin alike. ``run_point`` runs the built-in rule, then the shop's enabled
plugins in order (``souk_platform.plugins.services.invoke_plugins``), and merges.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from souk_platform.core.money import percent_of
from souk_platform.coupons.services import AppliedDiscount
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop
from souk_platform.shops.services import shop_setting
from souk_sandbox.points import POINTS, PointContract

T = TypeVar("T")
log = structlog.get_logger("souk.extensions")


class FailurePolicy(enum.Enum):
    CONTINUE = "continue"  # a failing plugin is logged and skipped: the built-in result stands
    ABORT = "abort"  # a failing plugin fails the operation (fail closed): the point answers "deny"


@dataclass(frozen=True, slots=True)
class PluginOutput:
    """One successful plugin call's output (already valid against the point's output schema)."""

    plugin_id: str
    name: str
    output: Any


Merge = Callable[[Any, Sequence[PluginOutput], Mapping[str, Any], Shop], Any]


@dataclass(frozen=True, slots=True)
class ExtensionPoint:
    """A point's policies; its JSON contract (input and output schemas) is ``souk_sandbox.points.POINTS``."""

    name: str
    on_failure: FailurePolicy  # the default; see ``failure_configurable``
    # Both in plain words for the merchant's plugin pages (lazily translated, like the scope registry's).
    merge: str  # how several plugins' outputs combine with the built-in one
    description: str
    combine: Merge | None = None
    # An activation may choose ABORT (deny when the plugin fails); only allow/deny points offer it.
    failure_configurable: bool = False
    # The built-in result that makes plugins pointless (a built-in deny already decides).
    decided: Callable[[Any], bool] | None = None

    @property
    def contract(self) -> PointContract:
        return POINTS[self.name]

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.contract.input_schema

    @property
    def output_schema(self) -> dict[str, Any]:
        return self.contract.output_schema

    def output_problems(self, document: Any) -> list[str]:
        """The output schema's complaints about ``document`` (empty when valid)."""
        return self.contract.output_problems(document)

    def input_problems(self, document: Any) -> list[str]:
        """The input schema's complaints about ``document``, every array item included."""
        return self.contract.input_problems(document)

    def input_shape_problems(self, document: Any) -> list[str]:
        """Like ``input_problems`` without walking array items: the check ``run_point`` makes per call."""
        return self.contract.input_shape_problems(document)


# --- merge rules (each returns the built-in's Python shape) ------------------------------------


def _merge_errors(builtin: Any, outputs: Sequence[PluginOutput], payload: Mapping[str, Any], shop: Shop) -> Any:
    merged: dict[str, list[str]] = {field: list(messages) for field, messages in builtin.items()}
    for plugin in outputs:
        for problem in plugin.output["errors"]:
            merged.setdefault(problem.get("field", "cart"), []).append(problem["message"])
    return merged


def _merge_discounts(builtin: Any, outputs: Sequence[PluginOutput], payload: Mapping[str, Any], shop: Shop) -> Any:
    if not outputs:
        return builtin
    subtotal = int(payload["subtotal"])
    by_sku: dict[str, int] = {}
    if any(d.get("target", "order") != "order" for plugin in outputs for d in plugin.output["discounts"]):
        for line in payload["lines"]:  # only SKU-targeted discounts need the lines' amounts
            by_sku[line["sku_id"]] = by_sku.get(line["sku_id"], 0) + int(line["unit_price"]) * int(line["quantity"])
    candidates: list[list[AppliedDiscount]] = [list(builtin)]
    for plugin in outputs:
        found: list[AppliedDiscount] = []
        for discount in plugin.output["discounts"]:
            target = discount.get("target", "order")
            basis = subtotal if target == "order" else by_sku.get(target["sku_id"], 0)
            amount = discount["amount"] if "amount" in discount else percent_of(basis, discount["percent"] * 100)
            if min(amount, basis) > 0:
                found.append(AppliedDiscount(plugin.plugin_id, None, discount["label"], min(amount, basis)))
        candidates.append(found)
    if shop_setting(shop, "discount_merge") == "best_of":
        chosen = max(candidates, key=lambda c: sum(d.amount for d in c))  # ties keep the built-in
    else:
        chosen = [discount for candidate in candidates for discount in candidate]
    # Never below zero: later discounts are cut to what is left of the subtotal.
    left, kept = subtotal, []
    for discount in chosen:
        amount = min(discount.amount, left)
        if amount > 0:
            kept.append(dataclasses.replace(discount, amount=amount))
            left -= amount
    return kept


def _merge_fees(builtin: Any, outputs: Sequence[PluginOutput], payload: Mapping[str, Any], shop: Shop) -> Any:
    return [
        *builtin,
        *(
            {"label": f["label"], "amount": f["amount"], **({"kind": f["kind"]} if "kind" in f else {})}
            for p in outputs
            for f in p.output["fees"]
        ),
    ]


def _merge_verdicts(builtin: Any, outputs: Sequence[PluginOutput], payload: Mapping[str, Any], shop: Shop) -> Any:
    if not builtin.get("allow", False):
        return builtin
    for plugin in outputs:
        if not plugin.output["allow"]:
            reason = plugin.output.get("reason") or "no reason given"
            return {"allow": False, "rule": f"plugin:{plugin.name}", "reason": f"{reason} (plugin {plugin.name})"}
    return builtin


def _merge_risk_verdicts(builtin: Any, outputs: Sequence[PluginOutput], payload: Mapping[str, Any], shop: Shop) -> Any:
    """``order.validate``: the built-in verdict, with every plugin that denied (``allow: false``) or asked for a
    person's review (``review: true``) listed under ``plugins``; any deny wins (docs/architecture.md §5.13)."""
    answers = [
        {"plugin": plugin.name, "allow": bool(plugin.output["allow"]), "reason": plugin.output.get("reason")}
        for plugin in outputs
        if not plugin.output["allow"] or plugin.output.get("review")
    ]
    if not answers:
        return builtin
    denied = next((answer for answer in answers if not answer["allow"]), None)
    merged = {**builtin, "plugins": answers}
    if denied is not None:
        reason = denied["reason"] or "no reason given"
        merged.update(allow=False, rule=f"plugin:{denied['plugin']}", reason=f"{reason} (plugin {denied['plugin']})")
    else:
        merged["review"] = True
    return merged


def _last_wins(key: str) -> Merge:
    def merge(builtin: Any, outputs: Sequence[PluginOutput], payload: Mapping[str, Any], shop: Shop) -> Any:
        return int(outputs[-1].output[key]) if outputs else builtin

    return merge


def _pick_branch(builtin: Any, outputs: Sequence[PluginOutput], payload: Mapping[str, Any], shop: Shop) -> Any:
    """``journey.split``: the last plugin naming one of the node's branches wins; else the built-in draw."""
    for plugin in reversed(outputs):
        if plugin.output["branch"] in payload["branches"]:
            return {"branch": plugin.output["branch"], "by": f"plugin:{plugin.plugin_id}"}
    return builtin


def _denied(result: Any) -> bool:
    return not result.get("allow", False)


EXTENSION_POINTS: dict[str, ExtensionPoint] = {
    point.name: point
    for point in (
        ExtensionPoint(
            "cart.validate",
            FailurePolicy.CONTINUE,
            _l("union of errors"),
            _l("Check a cart before it is priced."),
            combine=_merge_errors,
        ),
        ExtensionPoint(
            "cart.discounts",
            FailurePolicy.CONTINUE,
            _l("stack or best-of per the shop's discount_merge setting, never below zero"),
            _l("Discounts on cart lines or the whole order."),
            combine=_merge_discounts,
        ),
        ExtensionPoint(
            "order.extra_fee",
            FailurePolicy.CONTINUE,
            _l("sum of fees"),
            _l("Fees added to an order."),
            combine=_merge_fees,
        ),
        ExtensionPoint(
            "order.validate",
            FailurePolicy.CONTINUE,
            _l("any deny wins"),
            _l(
                "Risk control: allow, hold for review or deny an order draft "
                "(configurable per activation: ABORT or CONTINUE)."
            ),
            combine=_merge_risk_verdicts,
            failure_configurable=True,
            decided=_denied,
        ),
        ExtensionPoint(
            "points.earn",
            FailurePolicy.CONTINUE,
            _l("last plugin wins, else built-in"),
            _l("Points awarded for a paid order."),
            combine=_last_wins("points"),
        ),
        ExtensionPoint(
            "order.cashback",
            FailurePolicy.CONTINUE,
            _l("last plugin wins, else built-in"),
            _l("Stored value credited back for a paid order."),
            combine=_last_wins("amount"),
        ),
        ExtensionPoint(
            "member.level",
            FailurePolicy.CONTINUE,
            _l("last plugin wins, else built-in"),
            _l("A customer's member level."),
            combine=_last_wins("level"),
        ),
        ExtensionPoint(
            "refund.validate",
            FailurePolicy.CONTINUE,
            _l("any deny wins"),
            _l("Allow or deny a refund request."),
            combine=_merge_verdicts,
            decided=_denied,
        ),
        ExtensionPoint(
            "journey.split",
            FailurePolicy.CONTINUE,
            _l("last plugin naming one of the node's branches wins, else the weighted draw"),
            _l("Which branch of a journey's split a customer takes (next-best action)."),
            combine=_pick_branch,
        ),
    )
}


def is_plugin_discount(discount: AppliedDiscount) -> bool:
    """Whether a ``cart.discounts`` result came from a plugin (its ``coupon_id`` is the plugin's id)."""
    return discount.coupon_id.startswith("plg_")


def run_point(
    session: DbSession,
    point: str,
    shop: Shop,
    payload: Mapping[str, Any],
    builtin: Callable[[Mapping[str, Any]], T],
) -> T:
    """Run extension point ``point`` for ``shop``: the built-in rule, then the shop's enabled plugins, merged.

    ``payload`` is the point's JSON input without ``config``; ``builtin`` computes the default result
    from it (always called once). Plugins run only inside a Flask app (the sandbox runtime and the
    clock live in ``app.extensions``); their invocations are logged in ``session``'s transaction.
    A failing plugin never raises here: it follows the point's failure policy.
    """
    spec = EXTENSION_POINTS.get(point)
    if spec is None:
        raise ValueError(f"unknown extension point {point!r}")
    result = builtin(payload)
    if not has_app_context() or spec.combine is None:
        return result
    # Imported here: the plugins package reads this table at import time.
    from souk_platform.plugins import services as plugins

    active = plugins.active_plugins(session, shop_id=shop.id, point=point)
    if not active or (spec.decided is not None and spec.decided(result)):
        return result
    document = {**payload, "config": {}}
    problems = spec.input_shape_problems(document)
    if problems:  # a caller outside the contract (e.g. a re-evaluation without stats): plugins never see it
        log.warning("plugin input outside the point's schema; plugins skipped", point=point, problems=problems[:5])
        return result
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    outputs = plugins.invoke_plugins(
        session,
        app=app,
        shop_id=shop.id,
        point=spec,
        payload=payload,
        active=active,
        now=app.extensions["souk.clock"].now(),
    )
    merged: T = spec.combine(result, outputs, payload, shop)
    return merged

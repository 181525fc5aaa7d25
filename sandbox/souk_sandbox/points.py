"""The extension points' JSON contracts: each point's input and output schemas, and how they judge a document.

The one source of truth shared by production (``souk_platform.extensions`` adds failure policies and
merge rules on top) and the dev kit (``souk-plugin run`` judges with these same validators), so a
plugin the dev kit calls ``ok`` is one production accepts (docs/architecture.md §7.3).

Text a plugin writes for people (labels, messages, reasons) may not carry bidirectional control
characters (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C): such output is ``schema_invalid``.
Refused rather than stripped, because a stripped label is no longer what the plugin returned (the log
and a replay would disagree with the shopper's receipt), and a refusal shows in the dev kit at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

__all__ = ["POINTS", "PointContract"]

# Bidi controls let a label display as something else than it says ("‮01 ffo" shows as "off 10").
_NO_BIDI_CONTROLS = "^[^\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"

_INT = {"type": "integer"}
_AMOUNT = {"type": "integer", "minimum": 0, "maximum": 10**12}
_TEXT = {"type": "string", "maxLength": 200, "pattern": _NO_BIDI_CONTROLS}
_LABEL = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": _NO_BIDI_CONTROLS}
_CONFIG = {"type": "object", "description": "The activation's configuration"}
_LINES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["sku_id", "quantity"],
        "properties": {
            "sku_id": {"type": "string"},
            "quantity": _INT,
            "unit_price": {**_INT, "description": "Per unit for this buyer, after any member perk"},
            "list_price": {**_INT, "description": "The SKU's price before member perks"},
            "member_perk": {
                "type": ["string", "null"],
                "description": "member_price, level_discount (the level's), benefit_price, benefit_discount "
                "(a benefit package's right), or null: the perk that set unit_price",
            },
        },
    },
}
_CUSTOMER = {"type": ["object", "null"], "properties": {"id": {"type": "string"}, "level": _INT}}
_SPLIT_CUSTOMER = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "level": _INT, "orders_count": _INT, "total_spent": _INT},
}


def _input(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": [*required, "config"],
        "properties": {**required, **(optional or {}), "config": _CONFIG},
    }


def _output(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
    }


_VERDICT = _output({"allow": {"type": "boolean"}}, {"reason": _TEXT})
# order.validate: allow false denies; allow true with review true holds the order for a person (§5.13).
_RISK_VERDICT = _output(
    {"allow": {"type": "boolean"}},
    {"reason": _TEXT, "review": {"type": "boolean", "description": "Hold the order for a person's review"}},
)
_DISCOUNT = {
    "type": "object",
    "required": ["label"],
    "properties": {
        "label": _LABEL,
        "target": {
            "description": '"order", or {"sku_id": ...} for the lines of one SKU (default "order")',
            "oneOf": [
                {"const": "order"},
                {"type": "object", "required": ["sku_id"], "properties": {"sku_id": {"type": "string"}}},
            ],
        },
        "amount": {**_AMOUNT, "description": "Fen off"},
        "percent": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Percent off the target"},
    },
    "oneOf": [{"required": ["amount"]}, {"required": ["percent"]}],
    "additionalProperties": False,
}
_ERRORS = {
    "type": "array",
    "maxItems": 100,
    "items": {
        "type": "object",
        "required": ["message"],
        "properties": {"field": {"type": "string", "maxLength": 100}, "message": _TEXT},
        "additionalProperties": False,
    },
}
_FEE_KIND = {
    "enum": ["shipping", "other"],
    "description": 'Optional: "shipping" marks a shipping fee, which a member\'s free-shipping right waives',
}
_FEES = {
    "type": "array",
    "maxItems": 20,
    "items": _output({"label": _LABEL, "amount": _AMOUNT}, {"kind": _FEE_KIND}),
}


@dataclass(frozen=True, slots=True)
class PointContract:
    """One extension point's input (what the plugin receives, ``config`` included) and output schemas."""

    name: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    #: Remarks on a valid output (point input, output) -> messages: a warning, never a failure.
    warn: Callable[[Mapping[str, Any], Any], list[str]] | None = field(default=None, compare=False, repr=False)
    _validators: dict[str, jsonschema.Draft202012Validator] = field(default_factory=dict, compare=False, repr=False)

    def output_problems(self, document: Any) -> list[str]:
        """The output schema's complaints about ``document`` (empty when valid): the sandbox's validator."""
        return [_describe(error) for error in self._validator("output").iter_errors(document)]

    def input_problems(self, document: Any) -> list[str]:
        """The input schema's complaints about ``document``, every array item included."""
        return [_describe(error) for error in self._validator("input").iter_errors(document)]

    def input_shape_problems(self, document: Any) -> list[str]:
        """Like ``input_problems`` without walking array items (production's per-call check).

        The platform builds each item from typed rows; what a caller can get wrong is the shape (a
        missing ``stats``, a ``lines`` that is not a list). Walking 200 cart lines cost ~1.5 ms a point.
        """
        return [_describe(error) for error in self._validator("input-shape").iter_errors(document)]

    def output_warnings(self, point_input: Any, output: Any) -> list[str]:
        """What deserves a warning in a valid output; production logs it with the call, the dev kit prints it."""
        if self.warn is None or not isinstance(point_input, Mapping):
            return []
        return self.warn(point_input, output)

    def _validator(self, which: str) -> jsonschema.Draft202012Validator:
        validator = self._validators.get(which)
        if validator is None:
            schema = {"input": self.input_schema, "output": self.output_schema}.get(which)
            validator = jsonschema.Draft202012Validator(
                schema if schema is not None else _without_items(self.input_schema)
            )
            self._validators[which] = validator
        return validator


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where or '(root)'}: {error.message}"


def _without_items(schema: Any) -> Any:
    """``schema`` with the ``items`` of every array left out (their type and bounds stay)."""
    if isinstance(schema, dict):
        return {key: _without_items(value) for key, value in schema.items() if key not in ("items", "prefixItems")}
    if isinstance(schema, list):
        return [_without_items(value) for value in schema]
    return schema


def _discount_warnings(point_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    """What deserves a warning in a valid ``cart.discounts`` output: discounts that take the order to zero.

    Not a failure (a free order may be meant), but rarely what the author wanted; the platform writes
    it into the invocation log and the dev kit prints it. Percent discounts are counted on their target.
    """
    subtotal = point_input.get("subtotal")
    discounts = output.get("discounts") or []
    if not isinstance(subtotal, int) or subtotal <= 0 or not discounts:
        return []
    by_sku: dict[str, int] = {}
    if any(discount.get("target", "order") != "order" for discount in discounts):  # else no line is read
        for line in point_input.get("lines") or []:
            if isinstance(line, Mapping):
                sku, price, quantity = line.get("sku_id"), line.get("unit_price", 0), line.get("quantity", 0)
                if isinstance(sku, str) and isinstance(price, int) and isinstance(quantity, int):
                    by_sku[sku] = by_sku.get(sku, 0) + price * quantity
    total = 0
    for discount in discounts:
        target = discount.get("target", "order")
        basis = subtotal if target == "order" else by_sku.get(target.get("sku_id", ""), 0)
        amount = discount["amount"] if "amount" in discount else basis * discount["percent"] // 100
        total += min(amount, basis)
    if total < subtotal:
        return []
    return [
        f"The discounts ({total:,} fen) take the order to zero (subtotal {subtotal:,} fen): "
        "the shopper pays nothing for the goods."
    ]


POINTS: dict[str, PointContract] = {
    contract.name: contract
    for contract in (
        PointContract(
            "cart.validate",
            _input({"cart": {"type": "object", "required": ["lines"]}, "customer": _CUSTOMER}),
            _output({"errors": _ERRORS}),
        ),
        PointContract(
            "cart.discounts",
            _input({"lines": _LINES, "customer": _CUSTOMER, "subtotal": _INT}),
            _output({"discounts": {"type": "array", "maxItems": 100, "items": _DISCOUNT}}),
            warn=_discount_warnings,
        ),
        PointContract(
            "order.extra_fee",
            _input({"cart": {"type": "object"}, "lines": _LINES, "subtotal": _INT}),
            _output({"fees": _FEES}),
        ),
        PointContract(
            "order.validate",
            _input(
                {"order": {"type": "object", "required": ["lines"]}, "buyer": _CUSTOMER, "stats": {"type": "object"}}
            ),
            _RISK_VERDICT,
        ),
        PointContract(
            "points.earn",
            _input({"order": {"type": "object"}, "paid_amount": _INT}),
            _output({"points": {"type": "integer", "minimum": 0, "maximum": 10**9}}, {"reason": _TEXT}),
        ),
        PointContract(
            "order.cashback",
            _input({"order": {"type": "object"}, "paid_amount": _INT}),
            _output({"amount": _AMOUNT}),
        ),
        PointContract(
            "member.level",
            _input({"customer_id": {"type": "string"}, "member": {"type": "object"}}),
            _output({"level": {"type": "integer", "minimum": 1, "maximum": 5}}),
        ),
        PointContract(
            "refund.validate",
            _input({"refund": {"type": "object"}, "order": {"type": "object"}}),
            _VERDICT,
        ),
        PointContract(
            # A journey's split (docs/architecture.md §5.12): the plugin picks one of ``branches`` for the customer;
            # ``builtin`` is the weighted draw the platform would make, fixed per enrolment.
            "journey.split",
            _input(
                {
                    "journey_id": {"type": "string"},
                    "enrollment_id": {"type": "string"},
                    "customer_id": {"type": "string"},
                    "node_id": {"type": "string"},
                    "branches": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "builtin": {"type": "string"},
                },
                # Added after the point shipped, so optional: the customer's facts a next-best-action rule reads.
                optional={"customer": _SPLIT_CUSTOMER},
            ),
            _output({"branch": {"type": "string", "minLength": 1, "maxLength": 32}}),
        ),
    )
}

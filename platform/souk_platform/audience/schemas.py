"""Validating conditions against the field registry, and the shapes of ``GET /segment-fields``.

Errors are nested by key and index so that, under the request's ``condition`` field, their paths read
``condition.conditions.0.params.category_id`` (docs/architecture.md §5.8).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.audience.fields import GROUPS, PARAMS, REGISTRY, Field
from souk_platform.audience.sources import PAYMENT_METHODS

MAX_DEPTH = 4  # groups nested in groups, counting the outermost
MAX_CONDITIONS = 20  # items in one group
MAX_LIST = 100  # values of an in / not_in list

_INT_RANGES = {
    "level": (1, 5),
    "count": (0, 1_000_000_000),
    "amount": (-(10**15), 10**15),
    "days": (1, 3650),
    "days0": (0, 36500),
    "rating": (1, 5),
    "month": (1, 12),
    "monthday": (1, 31),
    "age": (0, 150),
    "days_year": (0, 365),
}
_NUMBER_RANGES = {"ratio": (0.0, 1.0), "number": (-(10**15), 10**15)}


def is_group(node: dict[str, Any]) -> bool:
    return "op" in node or "conditions" in node


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _id(value: Any, noun: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise ma.ValidationError(f"Must be a {noun} id.")
    return value


def _text(value: Any, longest: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= longest:
        raise ma.ValidationError(f"Must be text of 1 to {longest} characters.")
    return value.strip()


def check_value(kind: str, value: Any, spec: Field | None = None) -> Any:
    """The normalised value for a value ``kind``; raise ValidationError with a plain-words message."""
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        if not _is_int(value) or not low <= value <= high:
            raise ma.ValidationError(f"Must be a whole number from {low} to {high}.")
        return value
    if kind in _NUMBER_RANGES:
        low_f, high_f = _NUMBER_RANGES[kind]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low_f <= value <= high_f:
            raise ma.ValidationError(f"Must be a number from {low_f:g} to {high_f:g}.")
        return value
    if kind == "levels":
        if not isinstance(value, list) or not value or not all(_is_int(v) and 1 <= v <= 5 for v in value):
            raise ma.ValidationError("Must be a non-empty list of levels from 1 to 5.")
        return sorted(set(value))
    if kind == "months":
        if not isinstance(value, list) or not value or not all(_is_int(v) and 1 <= v <= 12 for v in value):
            raise ma.ValidationError("Must be a non-empty list of months from 1 to 12.")
        return sorted(set(value))
    if kind == "tag":
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise ma.ValidationError("Must be a tag id.")
        return value
    if kind == "tags":
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
            raise ma.ValidationError(f"Must be a list of 1 to {MAX_LIST} tag ids.")
        return sorted({check_value("tag", v) for v in value})
    if kind == "datetime":
        try:
            when = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise ma.ValidationError("Must be an RFC 3339 time with a timezone, like 2026-01-31T00:00:00Z.")
        return when.astimezone(dt.UTC).isoformat()
    if kind == "bool":
        if not isinstance(value, bool):
            raise ma.ValidationError("Must be true or false.")
        return value
    if kind == "text":
        return _text(value, 200)
    if kind == "choice":
        choices = spec.choices if spec else ()
        if value not in choices:
            raise ma.ValidationError(f"Must be one of: {', '.join(choices)}.")
        return value
    if kind == "choices":
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
            raise ma.ValidationError("Must be a non-empty list.")
        return sorted({check_value("choice", v, spec) for v in value})
    if kind.startswith("range:"):
        single = kind.removeprefix("range:")
        if not isinstance(value, list) or len(value) != 2:
            raise ma.ValidationError("Must be a list of two values [low, high].")
        low_v, high_v = (check_value(single, v, spec) for v in value)
        if (dt.datetime.fromisoformat(low_v) if single == "datetime" else low_v) > (
            dt.datetime.fromisoformat(high_v) if single == "datetime" else high_v
        ):
            raise ma.ValidationError("The first value must not be above the second.")
        return [low_v, high_v]
    raise ValueError(f"unknown value kind {kind!r}")


def _check_param(kind: str, value: Any) -> Any:
    if kind == "days":
        return check_value("days", value)
    if kind == "date":
        try:
            return dt.date.fromisoformat(value).isoformat() if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            pass
        raise ma.ValidationError("Must be a date like 2026-01-31.")
    if kind in ("category", "product", "coupon", "tag"):
        return _id(value, kind)
    if kind == "benefit_package":
        return _id(value, "benefit package")
    if kind == "product_tag":
        return _text(value, 30)
    if kind == "payment_method":
        if value not in PAYMENT_METHODS:
            raise ma.ValidationError(f"Must be one of: {', '.join(PAYMENT_METHODS)}.")
        return value
    if kind in ("channel", "text"):
        return _text(value, 64)
    if kind == "keyword":
        return _text(value, 200)
    raise ValueError(f"unknown parameter kind {kind!r}")


def _load_params(spec: Field, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ma.ValidationError({"params": ["Must be an object of parameters."]})
    errors: dict[str, Any] = {}
    loaded: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in spec.params:
            allowed = ", ".join(spec.params) or "none"
            errors[key] = [f"Unknown parameter for {spec.key} (it takes: {allowed})."]
            continue
        try:
            loaded[key] = _check_param(PARAMS[key].kind, value)
        except ma.ValidationError as err:
            errors[key] = err.messages
    if not errors and "window_days" in loaded and ({"date_from", "date_to"} & set(loaded)):
        errors["window_days"] = ["Give either window_days or date_from/date_to, not both."]
    if not errors and loaded.get("date_from") and loaded.get("date_to") and loaded["date_from"] > loaded["date_to"]:
        errors["date_to"] = ["Must not be before date_from."]
    if errors:
        raise ma.ValidationError({"params": errors})
    return loaded


def load_leaf(value: dict[str, Any]) -> dict[str, Any]:
    """``{"field", "params"?, "cmp", "value"}``: one test on a customer, checked against the registry."""
    errors: dict[str, Any] = {}
    for extra in sorted(set(value) - {"field", "params", "cmp", "value"}):
        errors[extra] = ["Unknown field."]
    key = value.get("field")
    spec = REGISTRY.get(key) if isinstance(key, str) else None
    if spec is None:
        errors["field"] = [
            "Unknown filter field; GET /api/v1/segment-fields lists them."
            if key
            else "Missing data for required field."
        ]
    if "cmp" not in value:
        errors["cmp"] = ["Missing data for required field."]
    if "value" not in value:
        errors["value"] = ["Missing data for required field."]
    if errors or spec is None:
        raise ma.ValidationError(errors)
    params = _load_params(spec, value.get("params"))
    if value["cmp"] not in spec.cmps:
        raise ma.ValidationError({"cmp": [f"For {spec.key} use one of: {', '.join(spec.cmps)}."]})
    try:
        checked = check_value(spec.cmps[value["cmp"]], value["value"], spec)
    except ma.ValidationError as err:
        raise ma.ValidationError({"value": err.messages}) from err
    leaf: dict[str, Any] = {"field": spec.key, "cmp": value["cmp"], "value": checked}
    if params:
        leaf["params"] = params
    return leaf


def load_condition_group(value: Any, *, depth: int = 1) -> dict[str, Any]:
    """Validate a condition group; errors are nested by key and index so paths read ``conditions.2.cmp``."""
    if not isinstance(value, dict):
        raise ma.ValidationError('A condition group is an object: {"op": "and", "conditions": [...]}.')
    errors: dict[str, Any] = {}
    for key in sorted(set(value) - {"op", "conditions"}):
        errors[key] = ["Unknown field."]
    if value.get("op") not in ("and", "or"):
        errors["op"] = ['Must be "and" or "or".']
    items = value.get("conditions")
    loaded: list[dict[str, Any]] = []
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CONDITIONS:
        errors["conditions"] = [f"Must be a list of 1 to {MAX_CONDITIONS} conditions."]
    else:
        item_errors: dict[int, Any] = {}
        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise ma.ValidationError("Each condition is an object (a field test or a nested group).")
                if is_group(item):
                    if depth >= MAX_DEPTH:
                        raise ma.ValidationError(f"Groups may nest at most {MAX_DEPTH} levels deep.")
                    loaded.append(load_condition_group(item, depth=depth + 1))
                else:
                    loaded.append(load_leaf(item))
            except ma.ValidationError as err:
                item_errors[index] = err.messages
        if item_errors:
            errors["conditions"] = item_errors
    if errors:
        raise ma.ValidationError(errors)
    return {"op": value["op"], "conditions": loaded}


class ConditionGroupField(ma.fields.Dict):
    """A whole condition (a group), validated by ``load_condition_group``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "metadata",
            {
                "description": 'A group {"op": "and"|"or", "conditions": [...]} of nested groups and '
                '{"field", "params", "cmp", "value"} tests. The fields, their parameters, comparisons and values '
                f"are listed by GET /api/v1/segment-fields. At most {MAX_DEPTH} levels "
                f"and {MAX_CONDITIONS} conditions per group."
            },
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        return load_condition_group(value)


# --- GET /segment-fields ------------------------------------------------------------------------------------------


class SegmentFieldQuerySchema(PageArgs):
    group = ma.fields.String(load_default=None, validate=ma.validate.OneOf(sorted(GROUPS)))


class SegmentFieldParamSchema(ma.Schema):
    key = ma.fields.String()
    kind = ma.fields.String(
        metadata={
            "description": "days, date, category, product, product_tag, payment_method, channel, keyword, text, "
            "coupon, benefit_package, tag"
        }
    )
    name_zh = ma.fields.String()
    name_en = ma.fields.String()


class SegmentFieldCmpSchema(ma.Schema):
    cmp = ma.fields.String()
    value = ma.fields.String(metadata={"description": "The kind of value this comparison takes"})


class SegmentFieldSchema(ma.Schema):
    key = ma.fields.String(metadata={"description": "The stable key conditions name in 'field'"})
    group = ma.fields.String()
    group_zh = ma.fields.String()
    group_en = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    definition_zh = ma.fields.String(metadata={"description": "口径: exactly what is counted"})
    definition_en = ma.fields.String()
    type = ma.fields.String(
        metadata={
            "description": "count, amount (fen), ratio, number, level, days0, rating, datetime, choice, bool, text, tag"
        }
    )
    cmps = ma.fields.List(ma.fields.Nested(SegmentFieldCmpSchema))
    params = ma.fields.List(ma.fields.Nested(SegmentFieldParamSchema))
    choices = ma.fields.List(ma.fields.String(), metadata={"description": "The values of a choice field"})
    legacy = ma.fields.Boolean(metadata={"description": "One of the first six field names, kept as they were"})

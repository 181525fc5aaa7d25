"""Request and response shapes of the tags, tag-import and segments API, and the condition validator."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.tags.conditions import CONDITION_FIELDS, MAX_CONDITIONS, MAX_DEPTH, is_group
from souk_platform.tags.models import TAG_KINDS

_INT_RANGES = {
    "level": (1, 5),
    "count": (0, 1_000_000_000),
    "amount": (-(10**15), 10**15),
    "days": (1, 3650),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_value(kind: str, value: Any) -> Any:
    """The normalised value for a value ``kind``; raise ValidationError with a plain-words message."""
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        if not _is_int(value) or not low <= value <= high:
            raise ma.ValidationError(f"Must be a whole number from {low} to {high}.")
        return value
    if kind == "levels":
        if not isinstance(value, list) or not value or not all(_is_int(v) and 1 <= v <= 5 for v in value):
            raise ma.ValidationError("Must be a non-empty list of levels from 1 to 5.")
        return sorted(set(value))
    if kind == "tag":
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise ma.ValidationError("Must be a tag id.")
        return value
    if kind == "datetime":
        try:
            when = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise ma.ValidationError("Must be an RFC 3339 time with a timezone, like 2026-01-31T00:00:00Z.")
        return when.astimezone(dt.UTC).isoformat()
    raise ValueError(f"unknown value kind {kind!r}")


class LeafConditionSchema(ma.Schema):
    """``{"field", "cmp", "value"}``: one test on a customer."""

    field = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(CONDITION_FIELDS)))
    cmp = ma.fields.String(required=True)
    value = ma.fields.Raw(required=True, allow_none=True)

    @ma.validates_schema
    def _cmp_and_value(self, fields: dict[str, Any], **kwargs: Any) -> None:
        cmps = CONDITION_FIELDS.get(fields.get("field", ""))
        if cmps is None or "cmp" not in fields:
            return
        if fields["cmp"] not in cmps:
            raise ma.ValidationError(f"For {fields['field']} use one of: {', '.join(cmps)}.", field_name="cmp")
        try:
            _check_value(cmps[fields["cmp"]], fields.get("value"))
        except ma.ValidationError as err:
            raise ma.ValidationError(err.messages, field_name="value") from err

    @ma.post_load
    def _normalise(self, fields: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        kind = CONDITION_FIELDS[fields["field"]][fields["cmp"]]
        return {"field": fields["field"], "cmp": fields["cmp"], "value": _check_value(kind, fields["value"])}


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
                    loaded.append(LeafConditionSchema().load(item))
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
                '{"field", "cmp", "value"} tests. Fields and their cmps: '
                + "; ".join(f"{f}: {', '.join(c)}" for f, c in CONDITION_FIELDS.items())
                + f". At most {MAX_DEPTH} levels and {MAX_CONDITIONS} conditions per group."
            },
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        return load_condition_group(value)


# --- tags -------------------------------------------------------------------------------------------------------


class TagSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "manual, rule or imported"})
    description = ma.fields.String(allow_none=True)
    condition = ma.fields.Dict(allow_none=True, metadata={"description": "Rule tags only"})
    customers_count = ma.fields.Integer()
    evaluated_at = ma.fields.DateTime(allow_none=True)
    version = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class TagCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    kind = ma.fields.String(load_default="manual", validate=ma.validate.OneOf(TAG_KINDS))
    description = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))
    condition = ConditionGroupField(load_default=None, allow_none=True)

    @ma.validates_schema
    def _condition_for_rule_tags(self, fields: dict[str, Any], **kwargs: Any) -> None:
        if fields.get("kind") == "rule" and not fields.get("condition"):
            raise ma.ValidationError("A rule tag needs a condition.", field_name="condition")
        if fields.get("kind") != "rule" and fields.get("condition"):
            raise ma.ValidationError("Only rule tags have a condition.", field_name="condition")


class TagUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 100))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    condition = ConditionGroupField(metadata={"description": "Rule tags only"})


class TagCustomersSchema(ma.Schema):
    customer_ids = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 64)), required=True, validate=ma.validate.Length(1, 1000)
    )


class TagMembershipSchema(ma.Schema):
    added = ma.fields.Integer(metadata={"description": "Customers that gained the tag"})
    removed = ma.fields.Integer(metadata={"description": "Customers that lost the tag"})
    customers_count = ma.fields.Integer()


class TagQuerySchema(PageArgs):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(TAG_KINDS))


# --- tag imports ------------------------------------------------------------------------------------------------


class TagImportCreateSchema(ma.Schema):
    csv = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 1_000_000),
        metadata={"description": "Rows 'phone_or_email_or_customer_id,tag'; an optional header row is skipped"},
    )
    create_missing_tags = ma.fields.Boolean(load_default=False)


class TagImportErrorSchema(ma.Schema):
    row = ma.fields.Integer(metadata={"description": "Line number in the CSV, counting from 1"})
    error = ma.fields.String()


class TagImportSchema(ma.Schema):
    id = ma.fields.String()
    rows = ma.fields.Integer(metadata={"description": "Data rows read"})
    imported = ma.fields.Integer(metadata={"description": "Rows applied (a customer already tagged counts)"})
    failed = ma.fields.Integer()
    errors = ma.fields.List(ma.fields.Nested(TagImportErrorSchema))
    created_tags = ma.fields.List(ma.fields.String())
    created_at = ma.fields.DateTime()


# --- segments ---------------------------------------------------------------------------------------------------


class SegmentEstimateSchema(ma.Schema):
    condition = ConditionGroupField(required=True)


class CountSchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "Customers matching now"})


class SegmentSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    condition = ma.fields.Dict()
    count = ma.fields.Integer(metadata={"description": "Customers matching now (the reach estimate)"})
    version = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class SegmentCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    description = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))
    condition = ConditionGroupField(required=True)


class SegmentUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 100))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    condition = ConditionGroupField()


# --- snapshots (docs/architecture.md §5.5) -----------------------------------------------------------------------

_DAYS = ma.validate.Range(1, 365)


class SnapshotCreateSchema(ma.Schema):
    name = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(1, 100),
        metadata={"description": "Defaults to the segment's name and the time taken"},
    )


class ConversionSchema(ma.Schema):
    days = ma.fields.Integer()
    window_ends_at = ma.fields.DateTime()
    complete = ma.fields.Boolean(metadata={"description": "The window is over, so the figures are final"})
    members = ma.fields.Integer()
    converted = ma.fields.Integer(metadata={"description": "Members who paid for an order within the window"})
    rate = ma.fields.Float(metadata={"description": "converted / members, to 4 decimals"})
    orders = ma.fields.Integer()
    revenue = ma.fields.Integer(metadata={"description": "What those orders were paid, in fen (before refunds)"})


class SnapshotSchema(ma.Schema):
    id = ma.fields.String()
    segment_id = ma.fields.String(allow_none=True, metadata={"description": "None once the segment is deleted"})
    segment_name = ma.fields.String()
    name = ma.fields.String()
    condition = ma.fields.Dict(metadata={"description": "The segment's condition when the snapshot was taken"})
    member_count = ma.fields.Integer()
    taken_at = ma.fields.DateTime()
    conversion = ma.fields.Nested(ConversionSchema, metadata={"description": "Only on a single snapshot"})


class SnapshotQuerySchema(ma.Schema):
    days = ma.fields.Integer(
        load_default=7, validate=_DAYS, metadata={"description": "The conversion window after taken_at, in days"}
    )


class SnapshotCustomersQuerySchema(PageArgs):
    converted = ma.fields.Boolean(
        load_default=None, metadata={"description": "Only members who bought (true) or did not (false)"}
    )
    days = ma.fields.Integer(load_default=7, validate=_DAYS, metadata={"description": "The window for converted"})

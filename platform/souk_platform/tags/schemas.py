"""Request and response shapes of the tags, tag-import and segments API, and the condition validator."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.audience.schemas import ConditionGroupField, load_condition_group
from souk_platform.tags.models import TAG_KINDS

__all__ = ["ConditionGroupField", "load_condition_group"]

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

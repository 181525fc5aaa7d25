"""Request and response shapes of the customer-events API, with each event type's properties checked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.behaviour.services import EVENT_CONTEXT, EVENT_PROPERTIES, EVENT_TYPES, MAX_BATCH


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, low: int, high: int) -> str | None:
    """A complaint about ``value`` as a string of ``low``..``high`` characters, or None when it is one."""
    if not isinstance(value, str) or not low <= len(value) <= high:
        return f"Must be a string of {low} to {high} characters."
    return None


def _property_problem(key: str, value: Any) -> str | None:
    if key in ("product_id", "sku_id"):
        return _text(value, 1, 64)
    if key == "query":
        return _text(value, 1, 200)
    if key == "url":
        return _text(value, 1, 2000)
    if key == "quantity":
        return None if _is_int(value) and 1 <= value <= 9999 else "Must be a whole number from 1 to 9999."
    if key == "rating":
        return None if _is_int(value) and 1 <= value <= 5 else "Must be a whole number from 1 to 5."
    raise ValueError(f"no check for property {key!r}")


def _printable_ascii(value: str) -> None:
    if not all(" " <= ch <= "~" for ch in value):
        raise ma.ValidationError("Must be printable ASCII.")


_PROPERTIES_DOC = (
    "Per type: "
    + "; ".join(
        f"{kind}: " + (", ".join(f"{k}{'' if required else '?'}" for k, required in props.items()) or "none")
        for kind, props in EVENT_PROPERTIES.items()
    )
    + (
        ". product_id/sku_id name a product/SKU of this shop, quantity 1–9999, rating 1–5, query 1–200 characters, "
        "url up to 2,000; store_visited needs store. Other keys are refused."
    )
)


class CustomerEventInSchema(ma.Schema):
    event_id = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(1, 64), _printable_ascii],
        metadata={"pattern": "^[ -~]+$", "description": "Your id for the event: a re-sent id is skipped"},
    )
    customer_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(EVENT_TYPES))
    occurred_at = ma.fields.AwareDateTime(
        required=True,
        metadata={"description": "At most 5 minutes ahead, and within the retention window (400 days by default)"},
    )
    channel = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))
    campaign = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))
    store = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64))
    properties = ma.fields.Dict(keys=ma.fields.String(), load_default=dict, metadata={"description": _PROPERTIES_DOC})

    @ma.validates_schema(skip_on_field_errors=False)  # report property problems alongside field ones
    def _properties_of_type(self, fields: dict[str, Any], **kwargs: Any) -> None:
        allowed = EVENT_PROPERTIES.get(fields.get("type", ""))
        if allowed is None or not isinstance(fields.get("properties"), dict):
            return
        properties = fields["properties"]
        problems: dict[str, list[str]] = {}
        for key in sorted(set(properties) - set(allowed)):
            problems[key] = [f"Unknown property for {fields['type']}."]
        for key, required in allowed.items():
            if key in properties:
                problem = _property_problem(key, properties[key])
                if problem:
                    problems[key] = [problem]
            elif required:
                problems[key] = [f"Required for {fields['type']}."]
        errors: dict[str, Any] = {"properties": problems} if problems else {}
        for context in EVENT_CONTEXT.get(fields["type"], ()):
            if fields.get(context) is None:
                errors[context] = [f"Required for {fields['type']}."]
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_load
    def _utc(self, fields: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        fields["occurred_at"] = fields["occurred_at"].astimezone(dt.UTC)
        return fields


class CustomerEventBatchSchema(ma.Schema):
    events = ma.fields.List(
        ma.fields.Nested(CustomerEventInSchema), required=True, validate=ma.validate.Length(1, MAX_BATCH)
    )


class CustomerEventBatchResultSchema(ma.Schema):
    accepted = ma.fields.Integer(metadata={"description": "Events stored by this request"})
    duplicates = ma.fields.List(
        ma.fields.String(), metadata={"description": "Event ids already stored, or repeated in the batch (skipped)"}
    )


class CustomerEventSchema(ma.Schema):
    id = ma.fields.String()
    event_id = ma.fields.String()
    customer_id = ma.fields.String()
    type = ma.fields.String()
    occurred_at = ma.fields.DateTime()
    received_at = ma.fields.DateTime()
    channel = ma.fields.String(allow_none=True)
    campaign = ma.fields.String(allow_none=True)
    store = ma.fields.String(allow_none=True)
    properties = ma.fields.Dict()


class CustomerEventQuerySchema(PageArgs):
    customer_id = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 64))
    type = ma.fields.String(load_default=None, validate=ma.validate.OneOf(EVENT_TYPES))
    since = ma.fields.AwareDateTime(load_default=None, metadata={"description": "Events that occurred at or after"})

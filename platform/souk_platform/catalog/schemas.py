"""Request and response shapes of the catalog API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.catalog.models import MAX_ON_HAND, MAX_PRICE, MAX_TAGS, PRODUCT_STATUSES

_CODE = ma.validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._/-]*\Z", error="Use letters, digits and . _ / - only, starting with a letter or digit."
)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


def _storable(value: str) -> None:
    """Reject NUL characters, which no text column holds, as a 422 naming the field.

    Lone surrogates never get this far: the request parser refuses them (souk_platform.api.parsing).
    """
    if "\x00" in value:
        raise ma.ValidationError("Must not contain NUL characters.")


def _title(required: bool) -> ma.fields.String:
    return ma.fields.String(required=required, validate=[ma.validate.Length(1, 200), _not_blank, _storable])


def _code(required: bool) -> ma.fields.String:
    return ma.fields.String(required=required, validate=[ma.validate.Length(1, 64), _CODE])


def _price(required: bool) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True,
        required=required,
        validate=ma.validate.Range(0, MAX_PRICE),
        metadata={"description": "Minor units (fen) of the shop's currency"},
    )


_STATUS = ma.validate.OneOf(PRODUCT_STATUSES)


def _category_id(description: str) -> ma.fields.String:
    return ma.fields.String(validate=[ma.validate.Length(1, 64), _storable], metadata={"description": description})


def _tag() -> ma.fields.String:
    return ma.fields.String(validate=[ma.validate.Length(1, 30), _not_blank, _storable])


def _tags(**kwargs: Any) -> ma.fields.List:
    return ma.fields.List(
        _tag(),
        validate=ma.validate.Length(max=MAX_TAGS),
        metadata={"description": f"At most {MAX_TAGS} distinct tags of 1 to 30 characters; replaces the list"},
        **kwargs,
    )


def _distinct_tags(data: dict[str, Any]) -> None:
    seen: set[str] = set()
    duplicates: dict[int, list[str]] = {}
    for i, tag in enumerate(data.get("tags") or []):
        if tag in seen:
            duplicates[i] = ["This tag appears more than once in the request."]
        seen.add(tag)
    if duplicates:
        raise ma.ValidationError({"tags": duplicates})


class SkuCreateSchema(ma.Schema):
    code = _code(True)
    title = _title(True)
    price = _price(True)
    on_hand = ma.fields.Integer(
        strict=True,
        load_default=0,
        validate=ma.validate.Range(0, MAX_ON_HAND),
        metadata={"description": "Initial stock"},
    )


class SkuUpdateSchema(ma.Schema):
    code = _code(False)
    title = _title(False)
    price = _price(False)


class SkuSchema(ma.Schema):
    id = ma.fields.String()
    product_id = ma.fields.String()
    code = ma.fields.String()
    title = ma.fields.String()
    price = ma.fields.Integer(metadata={"description": "Minor units (fen)"})
    currency = ma.fields.String()
    on_hand = ma.fields.Integer()
    reserved = ma.fields.Integer(metadata={"description": "Held by unpaid orders"})
    available = ma.fields.Integer(metadata={"description": "on_hand - reserved: what can still be sold"})
    version = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class ProductCreateSchema(ma.Schema):
    title = _title(True)
    description = ma.fields.String(load_default="", validate=[ma.validate.Length(max=10_000), _storable])
    status = ma.fields.String(load_default="draft", validate=_STATUS)
    category_id = _category_id("Its category; the shop's default category when left out")
    tags = _tags(load_default=list)
    skus = ma.fields.List(ma.fields.Nested(SkuCreateSchema), load_default=list, validate=ma.validate.Length(max=100))

    @ma.validates_schema
    def _distinct_tags(self, data: dict[str, Any], **kwargs: Any) -> None:
        _distinct_tags(data)

    @ma.validates_schema
    def _unique_codes(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        duplicates: dict[int, dict[str, list[str]]] = {}
        for i, sku in enumerate(data.get("skus", [])):
            if sku["code"] in seen:
                duplicates[i] = {"code": ["This code appears more than once in the request."]}
            seen.add(sku["code"])
        if duplicates:
            raise ma.ValidationError({"skus": duplicates})


class ProductUpdateSchema(ma.Schema):
    title = _title(False)
    description = ma.fields.String(validate=[ma.validate.Length(max=10_000), _storable])
    status = ma.fields.String(validate=_STATUS)
    category_id = _category_id("Move it to this category")
    tags = _tags()

    @ma.validates_schema
    def _distinct_tags(self, data: dict[str, Any], **kwargs: Any) -> None:
        _distinct_tags(data)


class ProductSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    description = ma.fields.String()
    status = ma.fields.String(metadata={"description": "draft, active (for sale) or archived"})
    category_id = ma.fields.String()
    tags = ma.fields.List(ma.fields.String(), metadata={"description": "In code-point order"})
    skus = ma.fields.List(ma.fields.Nested(SkuSchema))
    version = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class ProductQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=_STATUS)
    q = ma.fields.String(
        load_default=None,
        validate=[ma.validate.Length(1, 200), _storable],
        metadata={"description": "Title contains (any case)"},
    )
    category_id = ma.fields.String(
        load_default=None,
        validate=[ma.validate.Length(1, 64), _storable],
        metadata={"description": "In this category or any category under it"},
    )
    tag = ma.fields.String(
        load_default=None, validate=[ma.validate.Length(1, 30), _storable], metadata={"description": "Has this tag"}
    )


class CategoryCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(1, 60), _not_blank, _storable])
    parent_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=[ma.validate.Length(1, 64), _storable],
        metadata={"description": "The parent category; a top-level category when null or left out"},
    )
    position = ma.fields.Integer(
        strict=True,
        load_default=0,
        validate=ma.validate.Range(0, 1_000_000),
        metadata={"description": "Order among siblings (then by name)"},
    )


class CategoryUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=[ma.validate.Length(1, 60), _not_blank, _storable])
    parent_id = ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(1, 64), _storable],
        metadata={"description": "Move it (with its subcategories) under this category; null for the top level"},
    )
    position = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, 1_000_000))


class CategorySchema(ma.Schema):
    id = ma.fields.String()
    parent_id = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    position = ma.fields.Integer()
    depth = ma.fields.Integer(metadata={"description": "1 for a top-level category, at most 3"})
    path = ma.fields.List(ma.fields.String(), metadata={"description": "Names from the top level down to this one"})
    is_default = ma.fields.Boolean(metadata={"description": "Products without a category go here; never deleted"})
    version = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class CategoryListSchema(ma.Schema):
    items = ma.fields.List(
        ma.fields.Nested(CategorySchema),
        metadata={"description": "The whole tree, depth first: a parent before its children, siblings in order"},
    )


class AdjustmentCreateSchema(ma.Schema):
    delta = ma.fields.Integer(
        strict=True,
        required=True,
        validate=[
            ma.validate.Range(-MAX_ON_HAND, MAX_ON_HAND),
            ma.validate.NoneOf([0], error="Must not be zero."),
        ],
        metadata={"description": "Units added (positive) or removed (negative)"},
    )
    reason = ma.fields.String(required=True, validate=[ma.validate.Length(1, 200), _not_blank, _storable])


class AdjustmentSchema(ma.Schema):
    id = ma.fields.String()
    sku_id = ma.fields.String()
    delta = ma.fields.Integer()
    reason = ma.fields.String()
    ref = ma.fields.String(allow_none=True, metadata={"description": "The order or refund, for sales and returns"})
    on_hand_after = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class AdjustmentResultSchema(AdjustmentSchema):
    sku = ma.fields.Nested(SkuSchema, metadata={"description": "The SKU after the adjustment"})


# --- the fast read path (docs/architecture.md §4.8): what the schemas above dump, built directly


def sku_json(sku: Any) -> dict[str, Any]:
    """``SkuSchema().dump(sku)`` for a ``Sku`` or a row of ``services.SKU_COLUMNS``."""
    return {
        "id": sku.id,
        "product_id": sku.product_id,
        "code": sku.code,
        "title": sku.title,
        "price": sku.price,
        "currency": sku.currency,
        "on_hand": sku.on_hand,
        "reserved": sku.reserved,
        "available": sku.on_hand - sku.reserved,
        "version": sku.version,
        "created_at": sku.created_at,
    }


def product_json(product: Any, skus: Iterable[Any], tags: list[str]) -> dict[str, Any]:
    """``ProductSchema().dump(product)`` for a row of ``services.PRODUCT_COLUMNS``, its SKUs' rows and its tags."""
    return {
        "id": product.id,
        "title": product.title,
        "description": product.description,
        "status": product.status,
        "category_id": product.category_id,
        "tags": tags,
        "skus": [sku_json(sku) for sku in skus],
        "version": product.version,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }

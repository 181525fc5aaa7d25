"""Catalog errors, each with a stable problem ``code``."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, NotFound, Unprocessable


class ProductNotFound(NotFound):
    code = "product-not-found"
    title = "No such product"


class SkuNotFound(NotFound):
    code = "sku-not-found"
    title = "No such SKU"


class SkusNotForSale(NotFound):
    """Some SKUs of an order are unknown, belong to another shop, or their product is not active."""

    code = "sku-not-for-sale"
    title = "Some SKUs cannot be sold"


class ReservationNotFound(NotFound):
    code = "reservation-not-found"
    title = "No stock reservation"


class SkuCodeTaken(Conflict):
    code = "sku-code-taken"
    title = "The SKU code is already used in this shop"


class StockBelowReserved(Conflict):
    code = "stock-below-reserved"
    title = "Stock would fall below what unpaid orders hold"


class ReservationMismatch(Conflict):
    code = "reservation-mismatch"
    title = "The reference already holds a different quantity"


class StockLimitExceeded(Unprocessable):
    code = "stock-limit-exceeded"
    title = "Stock figure out of range"


class CategoryNotFound(NotFound):
    code = "category-not-found"
    title = "No such category"


class CategoryNameTaken(Conflict):
    code = "category-name-taken"
    title = "A sibling category already has this name"


class CategoryInUse(Conflict):
    """Deleting a category that still has products or subcategories, or the shop's default category."""

    code = "category-in-use"
    title = "The category still holds products or subcategories"


class CategoryTreeInvalid(Unprocessable):
    """A move under the category itself or its descendants, or a tree deeper than allowed."""

    code = "category-tree-invalid"
    title = "The category tree would be invalid"


class CategoryLimitReached(Conflict):
    code = "category-limit-reached"
    title = "The shop has as many categories as allowed"

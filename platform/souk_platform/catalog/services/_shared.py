"""What both sections of the catalog's services share: the payloads, the id check and the stock ceiling.

See ``souk_platform.catalog.services`` (docs/architecture.md §5.3, §12).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from souk_platform.catalog.errors import StockLimitExceeded
from souk_platform.catalog.models import MAX_ON_HAND, Product, Sku

# ---------------------------------------------------------------- payloads


def sku_payload(sku: Sku) -> dict[str, Any]:
    return {
        "id": sku.id,
        "product_id": sku.product_id,
        "code": sku.code,
        "title": sku.title,
        "price": sku.price,
        "currency": sku.currency,
        "on_hand": sku.on_hand,
        "reserved": sku.reserved,
        "available": sku.available,
        "version": sku.version,
    }


def product_payload(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "title": product.title,
        "description": product.description,
        "status": product.status,
        "category_id": product.category_id,
        "tags": product.tags,
        "version": product.version,
        "skus": [sku_payload(sku) for sku in product.skus],
    }


# ---------------------------------------------------------------- ids and limits

_ID = re.compile(r"(prd|sku)_[0-9a-z]{26}")


def _well_formed(ids: Iterable[str]) -> set[str]:
    """The ids that could exist at all; anything else (NUL bytes included) never reaches the database."""
    return {i for i in ids if _ID.fullmatch(i)}


def _check_stock_limit(on_hand: int, field: str) -> None:
    if on_hand > MAX_ON_HAND:
        raise StockLimitExceeded(
            f"Stock on hand cannot exceed {MAX_ON_HAND}.", errors={field: [f"Stock would be {on_hand}."]}
        )

"""Catalog rules: products and SKUs, stock adjustments, and the stock reservations checkout relies on.

Every stock movement locks the SKU rows (``SELECT … FOR UPDATE``) in id order before it reads
the figures it checks, so concurrent reservations, commits, releases and adjustments serialise per
SKU without deadlocking, and ``0 <= reserved <= on_hand`` always holds (the database checks it too).
Reservation rows of a ``ref`` are locked after its SKUs, in every function, for the same reason.
A reservation, release, sale (payment) or restock (refund) moves all its SKUs in one statement
(``_shift_stock``), marks its holds in one more and adds its audit rows and events without a flush per
line, so a checkout, payment, cancel or refund issues as many statements for 200 lines as for one.

Functions other domains call: ``skus_for_sale``, ``reserve_stock``, ``release_stock``,
``commit_stock``, ``return_stock``.

One module per section (docs/architecture.md §12): ``products`` (reading, products and SKUs, the page
helpers), ``stock`` (locking, ``_shift_stock``, reservations, adjustments and counts) and ``_shared``
(the payloads, the id check and the stock ceiling both need). This package re-exports the public names,
so callers import from ``services`` as before.
"""

from __future__ import annotations

# ``X as X``: public names outside ``__all__`` (the payloads, the fast read path's columns) and the private
# helpers tests/platform/catalog/test_stock_many_lines.py drives, importable from here as before the split.
from souk_platform.catalog.services._shared import product_payload as product_payload
from souk_platform.catalog.services._shared import sku_payload as sku_payload
from souk_platform.catalog.services.products import PRODUCT_COLUMNS as PRODUCT_COLUMNS
from souk_platform.catalog.services.products import SKU_COLUMNS as SKU_COLUMNS
from souk_platform.catalog.services.products import (
    NewSku,
    ProductRows,
    add_sku,
    archive_product,
    create_product,
    get_product,
    get_product_row,
    get_sku,
    list_adjustments_stmt,
    list_products_stmt,
    product_page,
    product_rows,
    product_tag_names,
    product_titles,
    sku_codes,
    skus_of_products,
    tags_of_products,
    update_product,
    update_sku,
)
from souk_platform.catalog.services.stock import (
    SkuForSale,
    adjust_inventory,
    commit_stock,
    count_stock,
    expired_reservation_refs,
    release_stock,
    reserve_stock,
    return_stock,
    skus_for_sale,
)
from souk_platform.catalog.services.stock import _lock_skus as _lock_skus
from souk_platform.catalog.services.stock import _shift_reserved as _shift_reserved

__all__ = [
    "NewSku",
    "ProductRows",
    "SkuForSale",
    "add_sku",
    "adjust_inventory",
    "archive_product",
    "commit_stock",
    "count_stock",
    "create_product",
    "expired_reservation_refs",
    "get_product",
    "get_product_row",
    "get_sku",
    "list_adjustments_stmt",
    "list_products_stmt",
    "product_page",
    "product_rows",
    "product_tag_names",
    "product_titles",
    "release_stock",
    "reserve_stock",
    "return_stock",
    "sku_codes",
    "skus_for_sale",
    "skus_of_products",
    "tags_of_products",
    "update_product",
    "update_sku",
]

"""Tag fields: customer tags held, how many, when last tagged (docs/architecture.md §5.8).

``fields/__init__.py`` imports the section modules in a fixed order: defining a field registers it, and
that order is the order of ``GET /segment-fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from souk_platform.audience.compiler import (
    Context,
    PredicateMeasure,
    count_where,
)
from souk_platform.audience.fields.core import (
    WINDOW,
    _agg,
    define,
)
from souk_platform.audience.fields.legacy import _has_tag, _tag_test
from souk_platform.customers.models import Customer
from souk_platform.tags.models import CustomerTag

# --- tags ---------------------------------------------------------------------------------------------------------


def _tags_any(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    found = sa.exists().where(
        CustomerTag.customer_id == Customer.id, CustomerTag.shop_id == ctx.shop_id, CustomerTag.tag_id.in_(value)
    )
    return found if cmp == "in" else sa.not_(found)


def _tags_all(ctx: Context, params: dict[str, Any], cmp: str, value: Any) -> sa.ColumnElement[bool]:
    return sa.and_(*(_has_tag(ctx, tag_id) for tag_id in value))


define(
    "tags.has",
    "tags",
    ("有/没有标签", "Has / has not a tag"),
    ("客户当前是否带有该标签", "Whether the customer carries the tag now"),
    "tag",
    PredicateMeasure(_tag_test),
)
define(
    "tags.has_any",
    "tags",
    ("有任一标签", "Has any of the tags"),
    ("in：至少带有其中一个标签；not_in：一个都没有", "in: carries at least one of the tags; not_in: none of them"),
    "tag",
    PredicateMeasure(_tags_any),
    cmps={"in": "tags", "not_in": "tags"},
)
define(
    "tags.has_all",
    "tags",
    ("有全部标签", "Has all the tags"),
    ("带有列出的每一个标签", "Carries every tag listed"),
    "tag",
    PredicateMeasure(_tags_all),
    cmps={"has": "tags"},
)

_TAG_COUNTS: list[tuple[str, tuple[str, str], str, Callable[[Any], Any], Any]] = [
    ("count", ("标签数", "Tags"), "all", lambda s: sa.func.count(), 0),
    ("rule_count", ("规则标签数", "Rule tags"), "rule", lambda s: count_where(s.c.kind == "rule"), 0),
    ("manual_count", ("手工标签数", "Manual tags"), "manual", lambda s: count_where(s.c.kind == "manual"), 0),
    ("imported_count", ("导入标签数", "Imported tags"), "imported", lambda s: count_where(s.c.kind == "imported"), 0),
    ("last_tagged_at", ("最近打标签时间", "Last tagged"), "latest", lambda s: sa.func.max(s.c.at), None),
]
for name, names, kind, agg, empty in _TAG_COUNTS:
    define(
        f"tags.{name}",
        "tags",
        names,
        (
            f"时间范围内（按打标时间）获得、至今仍带有的标签（{kind}）",
            f"Tags given in the window (by tagging time) and still carried ({kind})",
        ),
        "datetime" if name == "last_tagged_at" else "count",
        _agg("customer_tags", agg, empty),
        WINDOW,
    )

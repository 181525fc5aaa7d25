"""The registry of filter fields: the one list tags, segments, journeys and reports read (docs/architecture.md §5.8).

Each ``Field`` has a stable key (``trade.orders_count``), a group, its name and definition (口径) in
zh-CN and English, a value type, the comparisons it allows, the parameters it takes (a time window,
a category, a product …) and its ``measure``: how ``compiler.py`` turns it into SQL. The six field
names of the first condition language (``level``, ``tag``, ``total_spent``, ``orders_count``,
``last_order_at``, ``points``) are registered as they were, with the same comparisons and values.

A package along its sections (docs/architecture.md §12): ``core`` holds the registry itself (groups,
params, ``Field``, ``define``, ``REGISTRY``) and the shared windows and helpers; each section module
defines its group's fields. They are imported below in a fixed order, which is the order of
``REGISTRY`` and so of ``GET /segment-fields``: do not reorder them.
"""

# The sections, in registration order (each import defines and registers that section's fields): the order is
# the order of GET /segment-fields, so these imports are not to be sorted.
# isort: off
from souk_platform.audience.fields import legacy
from souk_platform.audience.fields import profile
from souk_platform.audience.fields import trade
from souk_platform.audience.fields import loyalty
from souk_platform.audience.fields import behaviour
from souk_platform.audience.fields import marketing
from souk_platform.audience.fields import tags

# isort: on
from souk_platform.audience.fields.behaviour import EVENT_NAMES, EVENT_PARAMS, SCENE
from souk_platform.audience.fields.core import (
    DEFAULT_CMPS,
    GROUPS,
    PARAMS,
    REGISTRY,
    TRADE,
    TRADE_NO_SCOPE,
    WINDOW,
    Field,
    Param,
    define,
    fields_of,
)

__all__ = [
    "DEFAULT_CMPS",
    "EVENT_NAMES",
    "EVENT_PARAMS",
    "GROUPS",
    "PARAMS",
    "REGISTRY",
    "SCENE",
    "TRADE",
    "TRADE_NO_SCOPE",
    "WINDOW",
    "Field",
    "Param",
    "behaviour",
    "define",
    "fields_of",
    "legacy",
    "loyalty",
    "marketing",
    "profile",
    "tags",
    "trade",
]

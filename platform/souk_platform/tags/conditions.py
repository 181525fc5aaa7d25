"""The condition language segments and rule tags share: now the audience registry's (docs/architecture.md §5.8).

Kept so that callers of the first condition language keep their imports; the registry of fields is
``souk_platform.audience.fields`` and the compiler ``souk_platform.audience.compiler``.
"""

from __future__ import annotations

from souk_platform.audience.schemas import MAX_CONDITIONS, MAX_DEPTH, is_group
from souk_platform.audience.services import compile_condition, matching_customers_stmt, tag_references

__all__ = ["MAX_CONDITIONS", "MAX_DEPTH", "compile_condition", "is_group", "matching_customers_stmt", "tag_references"]

"""The HTTP conventions every ``/api/v1`` endpoint shares (docs/architecture.md §4), built once.

- ``SoukApi``: flask-smorest ``Api`` whose every error is RFC 9457 problem+json
- ``requires(scope)``: bearer-token authentication and scope check, documented in OpenAPI
- ``transactional`` / ``idempotent``: one unit of work per request; ``Idempotency-Key`` replay
- ``PageArgs`` / ``page_of`` / ``paginated``: cursor pagination with ``next_cursor`` and ``Link``
- ``expected_version``: ``If-Match`` → the version a PATCH expects (412 when stale)
"""

from souk_platform.api.concurrency import check_version, etag, expected_version
from souk_platform.api.guard import current_principal, requires
from souk_platform.api.pagination import PageArgs, page_of, page_schema, paginated
from souk_platform.api.problems import SoukApi
from souk_platform.api.transactions import idempotent, transactional

__all__ = [
    "PageArgs",
    "SoukApi",
    "check_version",
    "current_principal",
    "etag",
    "expected_version",
    "idempotent",
    "page_of",
    "page_schema",
    "paginated",
    "requires",
    "transactional",
]

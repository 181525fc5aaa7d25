"""The HTTP conventions every ``/api/v1`` endpoint shares (docs/architecture.md §4), built once.

- ``SoukApi``: flask-smorest ``Api`` whose every error is RFC 9457 problem+json
- ``requires(scope)``: bearer-token authentication and scope check, documented in OpenAPI
- ``transactional`` / ``idempotent``: one unit of work per request; ``Idempotency-Key`` replay
- ``PageArgs`` / ``page_of`` / ``paginated``: cursor pagination with ``next_cursor`` and ``Link``
  (``row_page_of``: the same over Core rows)
- ``fast_response``: a hot read's body built from rows and encoded by orjson, same bytes as ``jsonify``
- ``kept_with_token``: a rarely changing row about the token's shop, kept with the cached token
- ``expected_version``: ``If-Match`` → the version a PATCH expects (412 when stale)
"""

from souk_platform.api.concurrency import check_version, etag, expected_version
from souk_platform.api.encoding import fast_response
from souk_platform.api.guard import current_principal, kept_with_token, requires
from souk_platform.api.pagination import Page, PageArgs, page_of, page_schema, paginated, row_page_of
from souk_platform.api.problems import SoukApi
from souk_platform.api.transactions import idempotency_required, idempotent, transactional

__all__ = [
    "Page",
    "PageArgs",
    "SoukApi",
    "check_version",
    "current_principal",
    "etag",
    "expected_version",
    "fast_response",
    "idempotency_required",
    "idempotent",
    "kept_with_token",
    "page_of",
    "page_schema",
    "paginated",
    "requires",
    "row_page_of",
    "transactional",
]

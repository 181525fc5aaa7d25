"""``GET /api/v1/segment-fields``: the registry of filter fields conditions may use (docs/architecture.md §5.8)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask.views import MethodView

from souk_platform.api import page_schema, paginated, requires
from souk_platform.api.pagination import Page
from souk_platform.api.parsing import Blueprint
from souk_platform.audience.fields import REGISTRY
from souk_platform.audience.schemas import SegmentFieldQuerySchema, SegmentFieldSchema
from souk_platform.audience.services import field_view
from souk_platform.core.errors import Unprocessable

blp = Blueprint(
    "audience", __name__, url_prefix="", description="The filter fields of segments and rule tags, with their 口径"
)

_KEYS = sorted(REGISTRY)


def _cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _after(cursor: str) -> str:
    try:
        key = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    if key not in REGISTRY:
        raise Unprocessable("The cursor is not one this API gave out.", errors={"query.cursor": ["Invalid cursor."]})
    return key


@blp.route("/segment-fields")
class SegmentFieldList(MethodView):
    @requires("read_tags")
    @blp.arguments(SegmentFieldQuerySchema, location="query")
    @blp.response(200, page_schema(SegmentFieldSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The filter fields, by key: names and definitions in zh-CN and English, comparisons and parameters"""
        keys = [k for k in _KEYS if args["group"] is None or REGISTRY[k].group == args["group"]]
        if args["cursor"]:
            last = _after(args["cursor"])
            keys = [k for k in keys if k > last]
        chosen = keys[: args["limit"]]
        more = len(keys) > args["limit"]
        return paginated(Page([field_view(REGISTRY[k]) for k in chosen], _cursor(chosen[-1]) if more else None))

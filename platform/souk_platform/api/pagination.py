"""The one pagination helper: cursor-based, newest first, ``next_cursor`` plus a ``Link`` header."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
import sqlalchemy as sa
from flask import request

from souk_platform.core.errors import Unprocessable
from souk_platform.db import DbSession

_PAGE_SCHEMAS: dict[str, type[ma.Schema]] = {}


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(
        load_default=50, validate=ma.validate.Range(1, 250), metadata={"description": "Items per page (1–250)"}
    )
    cursor = ma.fields.String(load_default=None, metadata={"description": "The next_cursor of the previous page"})


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def _encode(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


_ID = re.compile(r"^[a-z]+_[0-9a-z]{26}$")


def _decode(cursor: str) -> str:
    try:
        last_id = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_id = ""
    if not _ID.match(last_id):
        raise Unprocessable("The cursor is not one this API gave out.", errors={"query.cursor": ["Invalid cursor."]})
    return last_id


def page_of(session: DbSession, stmt: sa.Select[Any], id_column: Any, *, limit: int, cursor: str | None) -> Page:
    """Run ``stmt`` one page at a time, ordered by the time-sortable id, newest first."""
    if cursor:
        stmt = stmt.where(id_column < _decode(cursor))
    rows = list(session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode(rows[-1].id) if more and rows else None)


def paginated(page: Page) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The view's return value for a page: body, 200, and a ``Link: <…>; rel="next"`` header."""
    headers: dict[str, str] = {}
    if page.next_cursor:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        args["cursor"] = page.next_cursor
        headers["Link"] = f'<{request.base_url}?{urlencode(args)}>; rel="next"'
    return {"items": page.items, "next_cursor": page.next_cursor}, 200, headers


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """``{items: [...], next_cursor}`` for one item schema (one class per item, for OpenAPI)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _PAGE_SCHEMAS:
        _PAGE_SCHEMAS[name] = type(
            name,
            (ma.Schema,),
            {
                "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "next_cursor": ma.fields.String(allow_none=True, required=True),
            },
        )
    return _PAGE_SCHEMAS[name]

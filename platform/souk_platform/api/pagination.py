"""The one pagination helper: cursor-based, newest first, ``next_cursor`` plus a ``Link`` header."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
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
    return _cut(list(session.scalars(_keyset(stmt, id_column, limit, cursor))), limit)


def row_page_of(session: DbSession, stmt: sa.Select[Any], id_column: Any, *, limit: int, cursor: str | None) -> Page:
    """``page_of`` for a Core select of columns (one of them ``id``): the items are ``Row``s, not ORM objects.

    For fast-path lists (docs/architecture.md §4.8), where loading ORM instances would cost more than the query.
    """
    return _cut(list(session.execute(_keyset(stmt, id_column, limit, cursor))), limit)


def cursor_id(cursor: str | None) -> str | None:
    """The last id of the previous page that ``cursor`` stands for (422 for a cursor this API never gave)."""
    return _decode(cursor) if cursor else None


def cut_page(rows: Sequence[Any], limit: int) -> Page:
    """The page of up to ``limit + 1`` rows read newest first after ``cursor_id`` (each row with an ``id``)."""
    return _cut(list(rows), limit)


def _keyset(stmt: sa.Select[Any], id_column: Any, limit: int, cursor: str | None) -> sa.Select[Any]:
    if cursor:
        stmt = stmt.where(id_column < _decode(cursor))
    return stmt.order_by(id_column.desc()).limit(limit + 1)


def _cut(rows: list[Any], limit: int) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode(rows[-1].id) if more and rows else None)


def sorted_page_of(
    session: DbSession,
    stmt: sa.Select[Any],
    sort_column: Any,
    id_column: Any,
    *,
    descending: bool,
    limit: int,
    cursor: str | None,
) -> Page:
    """Like ``page_of``, ordered by ``sort_column`` (an integer or datetime column), ties by id.

    The cursor carries the last row's sort value and id (keyset pagination), so a page never
    repeats or skips rows that did not change while the client was paging.
    """
    after = (lambda a, b: a < b) if descending else (lambda a, b: a > b)
    if cursor:
        value, last_id = _decode_sorted(cursor)
        stmt = stmt.where(sa.or_(after(sort_column, value), sa.and_(sort_column == value, after(id_column, last_id))))
    order = (sort_column.desc(), id_column.desc()) if descending else (sort_column.asc(), id_column.asc())
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if not (more and rows):
        return Page(rows, None)
    last_value = getattr(rows[-1], sort_column.key)
    token = json.dumps([last_value.isoformat() if isinstance(last_value, dt.datetime) else last_value, rows[-1].id])
    return Page(rows, "s" + _encode(token))


def _decode_sorted(cursor: str) -> tuple[Any, str]:
    try:
        value, last_id = json.loads(
            base64.b64decode(cursor[1:] + "=" * (-len(cursor[1:]) % 4), altchars=b"-_", validate=True).decode()
        )
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if not cursor.startswith("s") or not isinstance(value, int | dt.datetime) or not _ID.match(last_id):
            raise ValueError(cursor)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise Unprocessable(
            "The cursor is not one this API gave out.", errors={"query.cursor": ["Invalid cursor."]}
        ) from None
    return value, last_id


def paginated(page: Page, *, view: Callable[[Any], Any] | None = None) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The view's return value for a page: body, 200, and a ``Link: <…>; rel="next"`` header; ``view`` turns each
    row into what the schema documents, when the rows are not that already."""
    headers: dict[str, str] = {}
    if page.next_cursor:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        args["cursor"] = page.next_cursor
        headers["Link"] = f'<{request.base_url}?{urlencode(args)}>; rel="next"'
    items = page.items if view is None else [view(item) for item in page.items]
    return {"items": items, "next_cursor": page.next_cursor}, 200, headers


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

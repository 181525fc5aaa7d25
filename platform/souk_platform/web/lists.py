"""Back-office lists page the way the API does (``api.pagination``: newest first, an opaque cursor)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, request, url_for

from souk_platform.api.pagination import Page, page_of, row_page_of
from souk_platform.core.errors import Unprocessable
from souk_platform.db import DbSession

PAGE_SIZE = 50


def list_page(
    session: DbSession, stmt: sa.Select[Any], id_column: Any, *, rows: bool = False
) -> tuple[Page, str | None]:
    """The page of ``stmt`` the request's ``cursor`` asks for, and the URL of the next page (None on the last).

    ``rows`` for a Core select of columns. A cursor this site did not give out is a 400.
    """
    read = row_page_of if rows else page_of
    try:
        page = read(session, stmt, id_column, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None)
    except Unprocessable:
        abort(400)
    if page.next_cursor is None:
        return page, None
    args: dict[str, Any] = {**request.args.to_dict(), "cursor": page.next_cursor, **(request.view_args or {})}
    return page, url_for(str(request.endpoint), **args)

"""Hot reads compiled once and sent straight to the driver: ``PreparedRead`` (docs/architecture.md §4.9).

SQLAlchemy Core costs more CPU per statement than the round trip it makes: measured on the 2-CPU box,
a prebuilt one-row ``SELECT`` on the session's connection took ~260 µs of CPU, the same statement through
psycopg's own cursor ~100 µs. On PostgreSQL a ``PreparedRead`` compiles its statement once per dialect,
sends it on the session's own driver connection as a server-side prepared statement (psycopg's
``prepare=True``), and applies the column types' result processors exactly as SQLAlchemy would (so a
``UTCDateTime`` comes back in UTC). The rows are named tuples: ``row.id``, ``row.created_at``.

It runs on the connection the session already holds, so it sees the session's transaction (or the
read-only unit's autocommit, ``api/reads.py``) and its uncommitted rows; it skips SQLAlchemy's execution
events, so it is for reads only. Elsewhere (SQLite, the embedded store) the statement goes through
SQLAlchemy as before and the rows are SQLAlchemy's, with the same attributes.

An ``IN`` over a list of ids cannot be a fixed statement (SQLAlchemy renders one placeholder per id), so
a read that takes a list gives a PostgreSQL form of its own, ``= ANY(:ids)`` with an array parameter.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from souk_platform.db import DbSession

AnySelect = sa.Select[*tuple[Any, ...]]


def id_array(name: str) -> sa.BindParameter[Any]:
    """A bind parameter holding a list of ids as one PostgreSQL array (for ``column == sa.any_(...)``)."""
    return sa.bindparam(name, type_=ARRAY(sa.String))


def keyset(stmt: AnySelect, id_column: Any, *, after: bool) -> AnySelect:
    """``stmt`` as one page, newest first: ``LIMIT :page_limit`` and, when ``after``, ids below ``:page_after``.

    The cursor pagination of docs/architecture.md §4.3 as a fixed statement (the API decodes the cursor).
    """
    if after:
        stmt = stmt.where(id_column < sa.bindparam("page_after", type_=sa.String))
    return stmt.order_by(id_column.desc()).limit(sa.bindparam("page_limit", type_=sa.Integer))


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    bind_processors: Mapping[str, Callable[[Any], Any]]
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]


class PreparedRead:
    """A ``SELECT`` built once at import and run on PostgreSQL without SQLAlchemy's per-call work."""

    def __init__(self, stmt: AnySelect, *, postgresql: AnySelect | None = None) -> None:
        self._stmt = stmt
        self._postgresql = postgresql if postgresql is not None else stmt
        names = [str(column.key) for column in self._postgresql.selected_columns]
        if names != [str(column.key) for column in stmt.selected_columns]:
            raise ValueError("the PostgreSQL form must select the same columns")
        self._row: Any = namedtuple("PreparedRow", names)  # type: ignore[misc]
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def all(self, session: DbSession, params: Mapping[str, Any]) -> Sequence[Any]:
        """Every row for ``params``."""
        connection = session.connection()
        dialect = connection.dialect
        if dialect.name != "postgresql":
            return connection.execute(self._stmt, dict(params)).all()
        compiled = self._compiled_for(dialect)
        values = dict(params)
        for name, process in compiled.bind_processors.items():
            if name in values:
                values[name] = process(values[name])
        driver_connection: Any = connection.connection.driver_connection
        with driver_connection.cursor(binary=True) as cursor:  # no text formatting of timestamps and numbers
            cursor.execute(compiled.sql, values, prepare=True)
            rows = cursor.fetchall()
        make = self._row._make
        if not compiled.result_processors:
            return [make(row) for row in rows]
        processed = []
        for row in rows:
            items = list(row)
            for index, process in compiled.result_processors:
                items[index] = process(items[index])
            processed.append(make(items))
        return processed

    def first(self, session: DbSession, params: Mapping[str, Any]) -> Any | None:
        """The first row for ``params``, or ``None``."""
        rows = self.all(session, params)
        return rows[0] if rows else None

    def _compiled_for(self, dialect: sa.Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        compiled = self._compiled.get(key)
        if compiled is None:
            statement = self._postgresql.compile(dialect=dialect)
            processors = [
                column.type._cached_result_processor(dialect, None)  # what SQLAlchemy applies to the column
                for column in self._postgresql.selected_columns
            ]
            compiled = _Compiled(
                sql=statement.string,
                bind_processors={name: p for name, p in statement._bind_processors.items() if callable(p)},
                result_processors=tuple((i, p) for i, p in enumerate(processors) if p is not None),
            )
            self._compiled[key] = compiled
        return compiled

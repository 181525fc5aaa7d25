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

In a read-only unit on its own engine (a ``GET`` in production: autocommit, ``api/reads.py``) the statement
does not go through the session at all but through a connection the thread keeps (``_KeptConnection``):
checking one out of the pool and back for every request cost more CPU than the statement. In autocommit
each statement sees what is committed, on whichever connection it runs, so the answer is the same.
"""

from __future__ import annotations

import os
import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import scoped_session

from souk_platform.db import READ_BIND, UNIT_READ_ENGINE, DbSession, UTCDateTime

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
    # The statement's own values (``coalesce(x, 0)``, ``state = 'listed'``): bound on every call.
    constants: Mapping[str, Any]
    bind_processors: Mapping[str, Callable[[Any], Any]]
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    # The same without ``UTCDateTime``'s: in a UTC session psycopg returns ``datetime.UTC`` datetimes, which
    # that processor would pass through unchanged (150 calls on a page of 50 products).
    result_processors_in_utc: tuple[tuple[int, Callable[[Any], Any]], ...]


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
        """Every row for ``params``, as named tuples (``row.id``)."""
        rows = self._postgresql_rows(session, params)
        if rows is None:
            return session.connection().execute(self._stmt, dict(params)).all()
        make = self._row._make
        return [make(row) for row in rows]

    def tuples(self, session: DbSession, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """Every row for ``params``, by position only: on PostgreSQL the driver's own tuples, no copy made."""
        rows = self._postgresql_rows(session, params)
        if rows is None:
            return session.connection().execute(self._stmt, dict(params)).all()
        return rows

    def first(self, session: DbSession, params: Mapping[str, Any]) -> Any | None:
        """The first row for ``params``, or ``None``."""
        rows = self.all(session, params)
        return rows[0] if rows else None

    def _postgresql_rows(self, session: DbSession, params: Mapping[str, Any]) -> list[tuple[Any, ...]] | None:
        """The rows from PostgreSQL (the thread's kept connection in a read-only unit), or ``None`` elsewhere."""
        read_bind = _read_engine(session)
        if read_bind is not None:  # a read-only unit on an engine of its own: autocommit
            if read_bind.dialect.name != "postgresql":
                return None
            return _KEPT.run(read_bind, lambda driver: self._execute(driver, read_bind.dialect, params))
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            return None
        return self._execute(connection.connection.driver_connection, connection.dialect, params)

    def _execute(self, driver: Any, dialect: sa.Dialect, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        compiled = self._compiled_for(dialect)
        values = {**compiled.constants, **params} if compiled.constants else dict(params)
        for name, process in compiled.bind_processors.items():
            if name in values:
                values[name] = process(values[name])
        with driver.cursor(binary=True) as cursor:  # no text formatting of timestamps and numbers
            cursor.execute(compiled.sql, values, prepare=True)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        in_utc = driver.pgconn.parameter_status(b"TimeZone") == b"UTC"  # what psycopg reads as datetime.UTC
        processors = compiled.result_processors_in_utc if in_utc else compiled.result_processors
        if not processors:
            return rows
        processed = []
        for row in rows:
            items = list(row)
            for index, process in processors:
                items[index] = process(items[index])
            processed.append(tuple(items))
        return processed

    def _compiled_for(self, dialect: sa.Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        compiled = self._compiled.get(key)
        if compiled is None:
            statement = self._postgresql.compile(dialect=dialect)
            columns = list(self._postgresql.selected_columns)
            processors = [
                (i, column.type._cached_result_processor(dialect, None))  # what SQLAlchemy applies
                for i, column in enumerate(columns)
            ]
            compiled = _Compiled(
                sql=statement.string,
                constants={
                    name: bind.effective_value
                    for name, bind in statement.binds.items()
                    if not bind.required and bind.callable is None
                },
                bind_processors={name: p for name, p in statement._bind_processors.items() if callable(p)},
                result_processors=tuple((i, p) for i, p in processors if p is not None),
                result_processors_in_utc=tuple(
                    (i, p) for i, p in processors if p is not None and not isinstance(columns[i].type, UTCDateTime)
                ),
            )
            self._compiled[key] = compiled
        return compiled


def _read_engine(session: DbSession) -> sa.Engine | None:
    """The autocommit engine of the read-only unit ``session`` is in, if any, without making a session."""
    if isinstance(session, scoped_session) and not session.registry.has():
        return UNIT_READ_ENGINE.get()
    read_bind = session.info.get(READ_BIND)
    return read_bind if isinstance(read_bind, sa.Engine) else None


def dialect_name(session: DbSession) -> str:
    """``session.get_bind().dialect.name``, without making a session in a read-only unit that has none."""
    engine = _read_engine(session)
    return str((engine if engine is not None else session.get_bind()).dialect.name)


class _KeptConnection:
    """The driver connection each thread keeps for its read-only units' prepared reads on PostgreSQL.

    Taken once from the engine's pool (so it is made, pinged and set up like any other) and detached from
    it, in autocommit: a request's read then costs its statement and nothing else — no checkout, no
    isolation-level switch, no reset on return — and keeps its server-side prepared statements across
    requests. A thread keeps one, for the engine it used last (another engine's, or a disposed pool's,
    is closed and replaced). A read is safe to run again, so one that finds the connection broken (the
    server restarted, a firewall dropped it) runs once more on a new connection before it fails.
    A forked child never uses its parent's socket: it takes its own.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        os.register_at_fork(after_in_child=self._forget)

    def run(self, engine: sa.Engine, read: Callable[[Any], list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        import psycopg

        for attempt in (1, 2):
            driver = self._driver_for(engine)
            try:
                return read(driver)
            except psycopg.OperationalError:
                if not driver.closed and not driver.broken:
                    raise
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close this thread's connection (the next read takes a new one)."""
        kept = getattr(self._local, "kept", None)
        self._local.kept = None
        if kept is not None:
            _pool, fairy, _driver = kept
            fairy.close()  # detached: the pool closes the driver connection (a dead one quietly)

    def _driver_for(self, engine: sa.Engine) -> Any:
        kept = getattr(self._local, "kept", None)
        if kept is not None and kept[0] is engine.pool:
            return kept[2]
        self.close()
        fairy = engine.raw_connection()
        driver: Any = fairy.driver_connection
        fairy.detach()  # ours now: the pool neither counts nor resets it
        driver.autocommit = True
        self._local.kept = (engine.pool, fairy, driver)
        return driver

    def current(self) -> Any | None:
        kept = getattr(self._local, "kept", None)
        return kept[2] if kept is not None else None

    def _forget(self) -> None:
        self._local = threading.local()


_KEPT = _KeptConnection()


def kept_read_connection() -> Any | None:
    """This thread's kept driver connection for read-only units, if it has one (to trace or inspect it)."""
    return _KEPT.current()

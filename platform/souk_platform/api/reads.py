"""Read-only requests: no transaction round trips, and a guard that they write nothing (docs/architecture.md §4.4).

A ``GET`` or ``HEAD`` through ``@requires`` runs on a connection in autocommit: PostgreSQL gets each
``SELECT`` alone, with no ``BEGIN`` before it and no ``ROLLBACK`` when the connection goes back to the pool
(two of the five round trips a two-statement read used to cost). At READ COMMITTED, PostgreSQL's default and
Souk's, each statement of a transaction takes its own snapshot anyway, so a read request sees exactly what
it saw inside a transaction. On SQLite, the embedded store, a read no longer takes the write lock
(``BEGIN IMMEDIATE``) and so never waits behind the in-process job thread.

Because nothing would roll a read request's writes back, the session refuses them: a flush of new, changed
or deleted objects, or an ``INSERT``, ``UPDATE`` or ``DELETE`` sent through the session, raises
``WriteInReadRequest`` (a programming error: the view belongs behind ``transactional``). The guard holds in
the test suite too, where requests share an outer test transaction instead of autocommit.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, scoped_session

from souk_platform.db import ON_NEW_SESSION, READ_BIND, UNIT_READ_ENGINE, DbSession

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
_FLAG = "souk.read_only"


class WriteInReadRequest(RuntimeError):
    """A read-only request tried to write: move the write behind ``transactional``."""


@contextmanager
def read_only_unit(session: DbSession, engine: sa.Engine | None = None) -> Iterator[None]:
    """Run a read-only request's queries in autocommit, refusing writes; restores the session after.

    Nothing is checked out here: the session is pointed at the engine's autocommit form (``READ_BIND``,
    honoured by ``db.SoukSession``), so a request that answers from memory (a cached shop, say) never
    takes a connection from the pool at all. When the request has no session yet, none is made: the one
    the request makes later, if any, is marked as it is made (``db.ON_NEW_SESSION``), and ``engine`` (the
    one that session would use) is offered to prepared reads in autocommit meanwhile
    (``db.UNIT_READ_ENGINE``), so a request that reads only through them makes no session at all.
    """
    if isinstance(session, scoped_session) and not session.registry.has():
        token = ON_NEW_SESSION.set(_enter)
        # What the session would be bound to: its factory's bind, else (Flask-SQLAlchemy's) ``engine``. A
        # session on a connection (a test's outer transaction) reads inside that, never here.
        bind = session.session_factory.kw.get("bind") or engine
        engine_token = UNIT_READ_ENGINE.set(_autocommit_form(bind) if isinstance(bind, sa.Engine) else None)
        try:
            yield
        finally:
            UNIT_READ_ENGINE.reset(engine_token)
            ON_NEW_SESSION.reset(token)
            if session.registry.has():
                _leave(session())
        return
    own: Session = session() if isinstance(session, scoped_session) else session
    _enter(own)
    try:
        yield
    finally:
        _leave(own)


def _enter(own: Session) -> None:
    own.info[_FLAG] = True
    if not own.in_transaction():
        bind = own.get_bind()
        # Only a session of its own on the engine: one bound to a connection (a test's outer
        # transaction) already has its unit of work.
        if isinstance(bind, sa.Engine):
            own.info[READ_BIND] = _autocommit_form(bind)


def _leave(own: Session) -> None:
    own.info.pop(_FLAG, None)
    own.info.pop(READ_BIND, None)


_AUTOCOMMIT_FORMS: weakref.WeakKeyDictionary[sa.Engine, sa.Engine] = weakref.WeakKeyDictionary()


def _autocommit_form(engine: sa.Engine) -> sa.Engine:
    """The engine with ``isolation_level=AUTOCOMMIT`` (same pool), made once per engine."""
    form = _AUTOCOMMIT_FORMS.get(engine)
    if form is None:
        form = _AUTOCOMMIT_FORMS[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return form


def is_read_only(session: Session) -> bool:
    return bool(session.info.get(_FLAG))


def install_write_guard() -> None:
    """Refuse writes in read-only units, on every session (idempotent: listeners are registered once)."""
    if event.contains(Session, "before_flush", _refuse_flush):
        return
    event.listen(Session, "before_flush", _refuse_flush)
    event.listen(Session, "do_orm_execute", _refuse_statement)


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if is_read_only(session) and (session.new or session.deleted or session.dirty):
        changed = [type(obj).__name__ for obj in (*session.new, *session.dirty, *session.deleted)]
        raise WriteInReadRequest(f"A read-only request tried to write {', '.join(sorted(set(changed)))}.")


def _refuse_statement(state: ORMExecuteState) -> None:
    if is_read_only(state.session) and (state.is_insert or state.is_update or state.is_delete):
        raise WriteInReadRequest(f"A read-only request sent a write: {str(state.statement)[:120]}")

"""SQLAlchemy base, column types shared by every model, and the Flask-SQLAlchemy handle."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Collection
from contextvars import ContextVar
from typing import Any, cast

import orjson
import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, registry, scoped_session

from souk_platform.core.ids import ID_LENGTH, new_id

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None or value.tzinfo is dt.UTC:  # the latter: psycopg's in a UTC session (app.py)
            return value
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING),
        type_annotation_map={dt.datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType},
    )


# Where a read-only unit (api/reads.py) sends its session's statements: the engine in autocommit.
READ_BIND = "souk.read_bind"


# The autocommit engine of the read-only unit a request is in while it has made no session yet (api/reads.py):
# a ``PreparedRead`` runs on it without making one (making and removing a session cost a product read
# ~30 µs of its ~300).
UNIT_READ_ENGINE: ContextVar[sa.Engine | None] = ContextVar("souk_unit_read_engine", default=None)


# Applied to every ``SoukSession`` made while it is set: how a read-only unit (api/reads.py) marks the
# request's session without making one up front, so a request answered from memory makes none at all.
ON_NEW_SESSION: ContextVar[Callable[[Session], None] | None] = ContextVar("souk_on_new_session", default=None)


class SoukSession(FlaskSession):
    """Flask-SQLAlchemy's session, except that a read-only unit's statements go to its autocommit engine."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        prepare = ON_NEW_SESSION.get()
        if prepare is not None:
            prepare(self)

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: sa.Engine | sa.Connection | None = None,
        **kwargs: Any,
    ) -> sa.Engine | sa.Connection:
        if bind is None:
            read_bind = self.info.get(READ_BIND)
            if read_bind is not None:
                return read_bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def dump_column_json(value: Any) -> str:
    """A JSON column's value as text, written by orjson (~15× the stdlib's speed on a 70 KB event payload).

    The text may differ from ``json.dumps``'s (UTF-8 rather than ``\\uXXXX``, no spaces) but reads back the
    same. What orjson refuses and the stdlib takes (an integer beyond 64 bits) goes through the stdlib.
    Reading stays with the stdlib: orjson would turn such an integer into a float.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


db = SQLAlchemy(
    model_class=Base,
    session_options={"class_": SoukSession},
    # Every JSON and JSONB column on both databases (through psycopg's adapters on PostgreSQL).
    engine_options={"json_serializer": dump_column_json},
)

# What services accept: a Session, or Flask-SQLAlchemy's scoped ``db.session`` that proxies one.
DbSession = Session | scoped_session[Any]


def install_liveness_check(engine: sa.Engine, *, after_idle: float) -> None:
    """Ping a pooled connection on checkout only when it sat idle over ``after_idle`` seconds (§4.9).

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout, one round trip per request; a connection in
    steady use is alive, and one that died under load fails its request and SQLAlchemy replaces the pool.
    """
    dbapi_error = engine.dialect.loaded_dbapi.Error

    @sa.event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_connection: Any, record: Any) -> None:
        record.info["souk.idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("souk.idle_since")
        if idle_since is None or time.monotonic() - idle_since < after_idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except dbapi_error as exc:  # the pool discards it and checks out another (up to 3 tries)
            raise sa.exc.DisconnectionError(str(exc)) from exc


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def dialect_insert(session: DbSession) -> Any:
    """The INSERT construct with ``ON CONFLICT`` of the session's database (PostgreSQL or SQLite)."""
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert


def in_ids(session: DbSession, column: Any, ids: Collection[str]) -> sa.ColumnElement[bool]:
    """``column IN (ids)``, as ``column = ANY(:ids)`` with one array parameter on PostgreSQL.

    SQLAlchemy renders a placeholder per id under ``IN``: for a 200-line cart that is a statement text of
    its own per cart size, parsed and planned afresh, ~0.7 ms more per 200-id read than one array
    (docs/architecture.md §5.2). SQLite has no arrays and runs in the process, so it keeps ``IN``.
    """
    if session.get_bind().dialect.name == "postgresql":
        return cast(sa.ColumnElement[bool], column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(sa.String))))
    return cast(sa.ColumnElement[bool], column.in_(list(ids)))


def id_column(prefix: str) -> Mapped[str]:
    """Primary key holding a ``<prefix>_…`` id from the one ID generator."""
    return mapped_column(sa.String(ID_LENGTH), primary_key=True, default=lambda: new_id(prefix))


def shop_column() -> Mapped[str]:
    """The tenant key every shop-owned row carries (indexed; queries always filter on it)."""
    return mapped_column(sa.String(ID_LENGTH), sa.ForeignKey("shops.id"), index=True)


def created_column() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime(), default=utcnow)


def updated_column() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Versioned:
    """Optimistic concurrency: ``version`` bumps on every UPDATE; ``If-Match`` compares it and a
    concurrent writer holding a stale row gets a StaleDataError instead of a lost update."""

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

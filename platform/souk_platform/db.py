"""SQLAlchemy base, column types shared by every model, and the Flask-SQLAlchemy handle."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import JSONB
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
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING),
        type_annotation_map={dt.datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType},
    )


db = SQLAlchemy(model_class=Base)

# What services accept: a Session, or Flask-SQLAlchemy's scoped ``db.session`` that proxies one.
DbSession = Session | scoped_session[Any]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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

"""A read costs its statements and nothing more, and may not write (docs/architecture.md §4.4, §4.9).

The wire is read from psycopg's protocol trace of the pooled connection: every ``Query`` or ``Sync`` the
client sends is one round trip to PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from conftest import IsolatedClient, _create_database, _drop_database, make_test_app
from flask import Flask, request_finished

from factories import ShopFactory
from souk_platform.api.reads import WriteInReadRequest, is_read_only, read_only_unit
from souk_platform.auth.scopes import all_scopes
from souk_platform.auth.services import create_access_token
from souk_platform.db import READ_BIND, db
from souk_platform.prepared import kept_read_connection
from souk_platform.shops.models import Shop


@contextmanager
def app_on_own_database(redis_url: str, **overrides: Any) -> Iterator[Flask]:
    """An app on a fresh database of this test's own: its requests commit and use the real pool."""
    name = f"souk_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    application = make_test_app(_create_database(name), redis_url, **overrides)
    application.test_client_class = IsolatedClient
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()
        _drop_database(name)


def owner_token(app: Flask) -> dict[str, str]:
    with app.app_context():
        shop = Shop(name="Wire shop", currency="CNY", settings={})
        db.session.add(shop)
        db.session.flush()
        _, token = create_access_token(db.session, shop_id=shop.id, name="t", scopes=all_scopes(), created_by=None)
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


class Wire:
    """Traces the PostgreSQL protocol of every connection the app uses while ``recording``: those it checks
    out of the pool and the thread's kept read connection (``prepared.kept_read_connection``)."""

    def __init__(self, app: Flask, trace: Path) -> None:
        self.trace = trace
        self.fileno: int | None = None
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "checkout", self._on_checkout)
        sa.event.listen(engine, "checkin", self._off)

    def _on(self, dbapi_connection: Any) -> None:
        if self.fileno is not None:
            # libpq writes through a FILE of its own and closes it on untrace: give it a copy of the fd.
            dbapi_connection.pgconn.trace(os.dup(self.fileno))
            dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    def _on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        self._on(dbapi_connection)

    def _off(self, dbapi_connection: Any, _record: Any = None) -> None:
        if dbapi_connection is not None and not dbapi_connection.closed:
            dbapi_connection.pgconn.untrace()  # flushes what it wrote

    @contextmanager
    def recorded(self) -> Iterator[list[str]]:
        """The client's messages (``Query "BEGIN"``, ``Parse …``, ``Sync``) sent inside the block."""
        messages: list[str] = []
        with self.trace.open("w") as out:
            self.fileno = out.fileno()
            kept = kept_read_connection()
            if kept is not None:
                self._on(kept)
            try:
                yield messages
            finally:
                self.fileno = None
                if kept is not None:
                    self._off(kept)
        for line in self.trace.read_text().splitlines():
            fields = line.split("\t", 2)  # a statement's text may run over several lines: those carry no tab
            if len(fields) == 3 and fields[0] == "F":
                messages.append(" ".join(fields[2].split()))


def round_trips(messages: list[str]) -> int:
    return sum(1 for m in messages if m.startswith("Query") or m == "Sync")


def test_a_cached_read_sends_only_its_own_statements_with_no_begin_rollback_or_ping(
    redis_url: str, tmp_path: Path
) -> None:
    with app_on_own_database(redis_url) as app:
        headers = owner_token(app)
        wire = Wire(app, tmp_path / "wire.trace")
        client = app.test_client()
        sku = {"code": "W1", "title": "100g", "price": 100, "on_hand": 5}
        created = client.post("/api/v1/products", headers=headers, json={"title": "Tea", "skus": [sku]})
        product_url = f"/api/v1/products/{created.json['id']}"
        for _ in range(2):  # the first sees the revocation stamp, the second caches the token under it (§4.2)
            assert client.get("/api/v1/shop", headers=headers).status_code == 200
            assert client.get(product_url, headers=headers).status_code == 200
        with wire.recorded() as messages:
            shop = client.get("/api/v1/shop", headers=headers)
        assert shop.status_code == 200 and shop.json["name"] == "Wire shop"
        assert messages == []  # the shop's row is kept with the cached token: no connection at all
        with wire.recorded() as messages:
            product = client.get(product_url, headers=headers)
        assert product.status_code == 200 and product.json["skus"][0]["code"] == "W1"
        sent = " | ".join(messages)
        assert round_trips(messages) == 1, sent  # the product with its SKUs and tags, one statement (§4.9)
        assert not any(word in sent for word in ('"BEGIN"', '"ROLLBACK"', '"COMMIT"', '"select 1"')), sent


def test_a_changed_shop_is_read_again_on_the_next_request(redis_url: str) -> None:
    with app_on_own_database(redis_url) as app:
        headers = owner_token(app)
        client = app.test_client()
        for _ in range(3):
            assert client.get("/api/v1/shop", headers=headers).json["name"] == "Wire shop"
        version = client.get("/api/v1/shop", headers=headers).json["version"]
        changed = client.patch(
            "/api/v1/shop", headers={**headers, "If-Match": f'"{version}"'}, json={"name": "Renamed shop"}
        )
        assert changed.status_code == 200
        again = client.get("/api/v1/shop", headers=headers)
        assert (again.json["name"], again.json["version"]) == ("Renamed shop", version + 1)
        with app.app_context():  # a change outside the API (a job, the CLI) counts the same
            db.session.execute(sa.update(Shop).values(name="Renamed in bulk"))
            db.session.commit()
        assert client.get("/api/v1/shop", headers=headers).json["name"] == "Renamed in bulk"


def test_a_write_still_runs_in_one_transaction(redis_url: str, tmp_path: Path) -> None:
    with app_on_own_database(redis_url) as app:
        headers = owner_token(app)
        wire = Wire(app, tmp_path / "wire.trace")
        client = app.test_client()
        sku = {"code": "T1", "title": "100g", "price": 100, "on_hand": 5}
        body = {"title": "Tea", "status": "active", "skus": [sku]}
        with wire.recorded() as messages:
            assert client.post("/api/v1/products", headers=headers, json=body).status_code == 201
        queries = [m for m in messages if m.startswith("Query")]
        assert queries[0] == 'Query "BEGIN"' and queries[-1] == 'Query "COMMIT"', messages
        assert client.get("/api/v1/products", headers=headers).json["items"][0]["title"] == "Tea"


def _kill_backends(app: Flask) -> int:
    """Terminate every other connection to the app's database (a restart, a dropped idle connection)."""
    with app.app_context():
        name = db.engine.url.database
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


def test_a_connection_that_died_while_idle_is_replaced_before_a_request_uses_it(redis_url: str) -> None:
    with app_on_own_database(redis_url, SOUK_DB_PING_AFTER_IDLE_SECONDS=0.0) as app:
        headers = owner_token(app)
        client = app.test_client()
        assert client.get("/api/v1/products", headers=headers).status_code == 200
        assert _kill_backends(app) >= 1
        assert client.get("/api/v1/products", headers=headers).status_code == 200


def test_without_the_idle_ping_a_dead_connection_fails_one_request_and_the_pool_recovers(redis_url: str) -> None:
    # The trade documented in §4.9: a connection in steady use is trusted, so a database restart under
    # load costs the requests that were about to use the dead connections, then the pool is replaced.
    with app_on_own_database(redis_url, SOUK_DB_PING_AFTER_IDLE_SECONDS=3600.0) as app:
        headers = owner_token(app)
        client = app.test_client()
        assert client.get("/api/v1/products", headers=headers).status_code == 200
        assert _kill_backends(app) >= 1
        failed = client.get("/api/v1/products", headers=headers)
        assert failed.status_code == 500 and failed.mimetype == "application/problem+json"
        assert client.get("/api/v1/products", headers=headers).status_code == 200


def test_a_read_only_unit_refuses_writes_and_leaves_the_session_writable(session: Any) -> None:
    shop = ShopFactory()
    with read_only_unit(session):
        assert session.get(Shop, shop.id) is shop  # reads are fine
        shop.name = "Renamed in a read"
        with pytest.raises(WriteInReadRequest, match="Shop"):
            session.flush()
        session.rollback()
        with pytest.raises(WriteInReadRequest, match="UPDATE"):
            session.execute(sa.update(Shop).where(Shop.id == shop.id).values(name="Bulk"))
    session.rollback()
    assert session.get(Shop, shop.id).name != "Bulk"
    shop.name = "Renamed in a write"
    session.flush()  # outside the unit, writes work again
    assert session.scalar(sa.select(Shop.name).where(Shop.id == shop.id)) == "Renamed in a write"


def test_a_read_only_unit_makes_no_session_and_marks_the_one_the_request_makes(embedded_app: Flask) -> None:
    with embedded_app.app_context():
        assert not db.session.registry.has()
        with read_only_unit(db.session):
            assert not db.session.registry.has()  # nothing made up front: a cached read needs none
            db.session.scalar(sa.select(sa.func.count()).select_from(Shop))
            made = db.session()
            assert is_read_only(made) and READ_BIND in made.info
            with pytest.raises(WriteInReadRequest, match="UPDATE"):
                db.session.execute(sa.update(Shop).values(name="Bulk"))
        assert db.session() is made and not is_read_only(made) and READ_BIND not in made.info
        db.session.rollback()
    with embedded_app.app_context(), read_only_unit(db.session):
        pass
    with embedded_app.app_context():  # a unit that made nothing leaves the next session unmarked
        assert not is_read_only(db.session())


def _product_url(app: Flask, headers: dict[str, str]) -> str:
    sku = {"code": "K1", "title": "100g", "price": 100, "on_hand": 5}
    created = app.test_client().post("/api/v1/products", headers=headers, json={"title": "Kept", "skus": [sku]})
    assert created.status_code == 201, created.json
    return f"/api/v1/products/{created.json['id']}"


def test_a_read_only_units_prepared_reads_share_one_kept_connection_and_leave_the_pool_alone(
    redis_url: str,
) -> None:
    with app_on_own_database(redis_url) as app:
        headers = owner_token(app)
        url = _product_url(app, headers)
        client = app.test_client()
        for _ in range(2):  # the token is cached from the second read on (§4.2)
            assert client.get(url, headers=headers).status_code == 200
        kept = kept_read_connection()
        assert kept is not None and kept.autocommit and not kept.closed
        backend = kept.info.backend_pid
        checkouts: list[object] = []
        with app.app_context():
            sa.event.listen(db.engine, "checkout", lambda *args: checkouts.append(args))
        sessions_made: list[bool] = []  # per request, seen as it finishes (before the teardown removes it)

        def note_session(sender: Flask, **extra: Any) -> None:
            sessions_made.append(db.session.registry.has())

        request_finished.connect(note_session, app)
        try:
            for _ in range(3):
                assert client.get(url, headers=headers).json["skus"][0]["code"] == "K1"
                assert client.get("/api/v1/products?limit=5", headers=headers).json["items"][0]["title"] == "Kept"
                assert client.get("/api/v1/market/apps").json == {"items": [], "next_cursor": None}  # public
        finally:
            request_finished.disconnect(note_session, app)
        assert kept_read_connection() is kept and kept.info.backend_pid == backend
        assert checkouts == []  # no checkout, no reset, no isolation-level switch per request
        assert sessions_made == [False] * 9  # prepared reads only: no session made (db.UNIT_READ_ENGINE)


def test_a_kept_connection_the_server_dropped_is_replaced_and_the_read_still_answered(redis_url: str) -> None:
    with app_on_own_database(redis_url) as app:
        headers = owner_token(app)
        url = _product_url(app, headers)
        client = app.test_client()
        for _ in range(2):
            before = client.get(url, headers=headers).json
        dropped = kept_read_connection()
        assert dropped is not None
        assert _kill_backends(app) >= 1
        again = client.get(url, headers=headers)
        assert again.status_code == 200 and again.json == before  # a read is safe to run once more
        replaced = kept_read_connection()
        assert replaced is not None and replaced is not dropped and dropped.closed


def test_a_thread_keeps_one_connection_for_the_database_it_read_last(redis_url: str) -> None:
    with app_on_own_database(redis_url) as first, app_on_own_database(redis_url) as second:
        for app in (first, second):
            headers = owner_token(app)
            url = _product_url(app, headers)
            assert app.test_client().get(url, headers=headers).status_code == 200
            if app is first:
                kept_first = kept_read_connection()
        kept_second = kept_read_connection()
        assert kept_first is not None and kept_second is not None
        assert kept_first.closed and not kept_second.closed  # the first app's was closed, not left open
        with second.app_context():
            assert kept_second.info.dbname == db.engine.url.database


def test_a_forked_child_never_uses_its_parents_kept_connection(redis_url: str) -> None:
    with app_on_own_database(redis_url) as app:
        headers = owner_token(app)
        url = _product_url(app, headers)
        assert app.test_client().get(url, headers=headers).status_code == 200
        assert kept_read_connection() is not None
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through its exit status
            os._exit(0 if kept_read_connection() is None else 1)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert kept_read_connection() is not None  # the parent's is untouched
